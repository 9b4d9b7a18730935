"""Fidelity: how the synthetic interactions differ from the real ones (distributions, detectability, novelty)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recaug.analysis.fidelity import fidelity_report, fidelity_wide, metric_label, metric_names
from recaug.augment.llm.llm_common import skipped_variants
from recaug.reporting.export import to_csv_bytes
from recaug.reporting.figures import fidelity_histograms
from ui.cached import cached_value
from ui.errors import friendly_errors
from ui.escape import markdown_prose
from ui.fidelity_context import fidelity_context
from ui.page import page_setup
from ui.progress import streamlit_progress
from ui.session import current_dataset
from ui.state import AUGMENT_RESULTS, no_augment_results_note, results_key, results_split
from ui.tables import as_text, right_aligned


def fidelity_number(value: float) -> str:
    """Counts as whole numbers, scores and distances with four decimals."""
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 1 else f"{value:.4f}"


def metric_guide(table: pd.DataFrame) -> pd.DataFrame:
    """One row per metric shown: readable name, id (as in the CSV), range, which way is better, meaning."""
    order = {name: position for position, name in enumerate(metric_names())}  # the table's order, not real's first
    guide = table.drop_duplicates("metric").sort_values("metric", key=lambda m: m.map(order), kind="stable")
    better = guide["higher_is_better"].map({True: "higher", False: "lower"}).fillna("neither (descriptive)")
    return pd.DataFrame(
        {
            "metric": guide["metric"].map(metric_label),
            "id": guide["metric"],
            "range": guide["range"],
            "better": better,
            "what it measures": guide["description"],
        }
    )


def with_context(table: pd.DataFrame, context: dict[str, object]) -> pd.DataFrame:
    """The tidy table with each metric's readable name and the header's facts (data, split, seed, methods...)
    as columns, so the file says what it measured once it is away from this page."""
    labelled = table.assign(label=table["metric"].map(metric_label))
    return labelled.assign(**{name: [value] * len(table) for name, value in context.items()})


def why_no_rows(name: str, info: dict[str, object]) -> str:
    """' (skill check failed)' when the LLM skill check stopped method ``name``, else what stopped it, or ''."""
    why = skipped_variants([{**info, "augmenter": name}]).get(name, "")
    return " (skill check failed)" if "failed" in why else " (its skill could not be measured)" if why else ""


page_setup("Fidelity")
st.title("Fidelity: real vs synthetic")
dataset = current_dataset()
results = st.session_state.get(AUGMENT_RESULTS) or {}
if not results:
    st.info(no_augment_results_note("This page"))
    st.page_link("pages/1_Augment.py", label="Go to Augment", icon=":material/science:")
    st.stop()

context = fidelity_context(dataset.name)
st.caption(context.caption)
for warning in context.warnings:
    st.warning(warning, icon=":material/update:")
synthetic = pd.concat([r.rows for r in results.values()], ignore_index=True)
if rowless := [name for name, r in results.items() if r.item_init is not None]:
    st.info(
        f"{', '.join(rowless)} adds no rows (it gives item start vectors for BPR/LightGCN), so it has no column "
        "here; Compare measures what it changes.",
        icon=":material/info:",
    )
if empty := [name for name, r in results.items() if r.item_init is None and r.rows.empty]:
    # Listed as run but no column in the table: say why, once (a stopped LLM arm read as a missing column).
    st.info(
        " ".join(f"{name} made no rows{why_no_rows(name, results[name].info)}: nothing to measure." for name in empty),
        icon=":material/info:",
    )
logs = {name: r.log for name, r in results.items() if isinstance(r.log, pd.DataFrame) and not r.log.empty}
st.caption(
    "Distribution distances compare real training data with real + synthetic; the detection score is a "
    "classifier's cross-validated ROC AUC at telling synthetic from real edges (0.5 = indistinguishable). "
    "Each metric states its range and direction; a metric that fails shows as an error row."
)
with friendly_errors("measure fidelity"):
    split, seed, protocol = results_split(dataset)
    key = results_key(dataset, "fidelity")
    report, bar = streamlit_progress("Measuring fidelity")
    table = cached_value(
        key, lambda: fidelity_report(dataset, split.train, synthetic, llm_log=logs or None, seed=seed, progress=report)
    )
    bar.empty()
    wide = fidelity_wide(table)
    columns = list(wide.columns)
    shown = wide.rename(index=metric_label, level="metric").rename(index=str.capitalize, level="group")
    st.dataframe(
        as_text(shown, dict.fromkeys(columns, fidelity_number)),
        width="stretch",
        column_config=right_aligned(columns),
        key="fidelity_table",
    )
    st.caption(
        "Each metric's range, direction and meaning are under **What each metric means** below; the CSV keeps the "
        "metric ids."
        + (
            ""
            if (table["metric"] == "novelty").any()
            else " Novelty (synthetic edges new to training) is not shown: every method drops the pairs already in "
            "training, so it is 1 for all of them."
        )
    )
    errors = table[table["error"].fillna("") != ""] if "error" in table else table.iloc[0:0]
    if len(errors):
        st.warning(
            f"{len(errors)} metric(s) could not be computed: "
            + "; ".join(markdown_prose(f"{r.method}/{r.metric}: {r.error}", 500) for r in errors.itertuples())
        )
    with st.expander("What each metric means"):
        st.dataframe(metric_guide(table), hide_index=True, width="stretch", key="fidelity_guide")
    figures = cached_value(key + ":figs", lambda: fidelity_histograms(dataset, split.train, synthetic))
    cols = st.columns(len(figures))
    for col, (name, fig) in zip(cols, figures.items(), strict=True):
        col.plotly_chart(fig, key=f"fidelity_{name}")
    st.download_button(
        "Fidelity table (CSV)",
        to_csv_bytes(with_context(table, context.columns)),
        "fidelity.csv",
        "text/csv",
        key="download_fidelity",
    )
