"""Compare: baseline vs augmented models on the identical, untouched test split, with calibrated verdicts."""

from __future__ import annotations

import streamlit as st

from recaug.augment.item_text import id_text_warning
from recaug.evaluate.significance import weak_baseline_warning
from recaug.experiment.cost import cost_table
from recaug.experiment.result import model_use_notes
from recaug.models.tuned import UNTUNED_WARNING, strong_baselines
from recaug.reporting.export import to_csv_bytes
from recaug.reporting.figures import budget_curve, delta_bars, sweep_points
from ui.aa_view import show_aa_control
from ui.compare_controller import (
    add_models_and_run,
    default_slice,
    downloads,
    is_stale,
    run_and_record,
    run_requested,
    significance_of,
    stopping_text,
)
from ui.compare_form import compare_form
from ui.compare_view import (
    comparison_table,
    cost_view,
    decided_elsewhere,
    merged_table,
    never_ranked_note,
    verdict,
)
from ui.errors import friendly_errors
from ui.escape import markdown_prose
from ui.long_runs import COMPARE, finish_comparison, show_stop_note, start_comparison
from ui.page import page_setup
from ui.selection_view import chosen_download, info_notes
from ui.session import current_dataset
from ui.state import EXPERIMENT, EXPERIMENT_KEY, augment_config

DEFAULT_SHOWN = ("ndcg", "recall", "precision", "hit")

page_setup("Compare")
st.title("Compare before and after")
dataset = current_dataset()
aug = augment_config(dataset)
if not aug["augmenters"]:
    st.warning("No augmentation method is selected; choose one on the Augment page.")
    st.page_link("pages/1_Augment.py", label="Go to Augment", icon=":material/science:")
    st.stop()

if (id_warning := id_text_warning(dataset, aug["augmenters"], aug.get("augmenter_params"))) is not None:
    st.warning(markdown_prose(id_warning), icon=":material/text_fields:")
form = compare_form(dataset, aug)
config = form.config
if run_requested(st.button("Run comparison", type="primary", key="run_compare", disabled=not config.models)):
    start_comparison(dataset, config, lambda progress: run_and_record(dataset, config, progress, form.executor()))
with friendly_errors("run the comparison"):
    outcome = finish_comparison(dataset, lambda partial, progress: run_and_record(dataset, partial, progress))
    if outcome is not None and outcome.was_cached:
        ready = " Its trained models are ready for What-if." if outcome.result.models else ""
        st.toast(f"Loaded from cache (same data and settings).{ready}")
show_stop_note(COMPARE)

result = st.session_state.get(EXPERIMENT)
if result is None:
    st.info("Press **Run comparison** to train each model on the original and on the augmented training data.")
    st.stop()
if is_stale(dataset, config):
    st.warning("The results below were made with other settings than the ones above. Press **Run comparison**.")
if result.results.empty:  # nothing was measured: no slice, metric or k to draw (a stopped run before any fit)
    st.warning("This comparison has no results to show: no model was evaluated. Press **Run comparison** again.")
    st.stop()

key = st.session_state[EXPERIMENT_KEY]
with friendly_errors("compute significance"):
    significance = significance_of(result, key)
slices = sorted(result.results["slice"].unique(), key=lambda s: (s != "all", s))
users = result.results.groupby("slice")["n_users"].min()
slice_name = st.selectbox(
    "Slice of test users",
    slices,
    index=default_slice(slices, result.config.protocol, result.results),
    format_func=lambda s: f"{s} ({users.get(s, 0):,} users)",
    key="cmp_slice",
    help="cold/warm: test items by training popularity; activity quartiles of users; users touched or untouched "
    "by augmentation. Slices under 30 users get no verdict.",
)
available = list(dict.fromkeys(result.results.loc[result.results["slice"] == slice_name, "metric"]))
shown = st.multiselect(
    "Metrics in the table",
    available,
    default=[m for m in available if m in DEFAULT_SHOWN],
    key="cmp_shown",
    help="Accuracy metrics by default; add coverage, Gini, novelty, ... Primary rows keep their verdicts whatever is "
    "shown; every other row is exploratory.",
)
table = merged_table(result.results, significance, slice_name, shown)
verdict(table, slice_name, stopping_text(result))
show_aa_control(significance, slice_name)  # what the A/A control says of calibration, if it ran
if (elsewhere := decided_elsewhere(significance, slice_name)) is not None:
    st.info(elsewhere, icon=":material/call_split:")
if (unreached := never_ranked_note(table, slice_name)) is not None:
    st.caption(":material/info: " + unreached)
if weak_baseline_warning(result.results):
    st.warning(weak_baseline_warning(result.results))
if not strong_baselines(result.config.models):
    st.caption(":material/warning: " + UNTUNED_WARNING)
    st.button(
        "Add bpr-tuned and EASE and re-run",
        key="cmp_add_tuned",
        on_click=add_models_and_run,
        args=(["bpr-tuned", "ease"],),
        help="bpr-tuned fits 6 BPRs per variant and seed.",
    )
comparison_table(table)
info_notes(model_use_notes(result))  # what each model used or ignored, and what validation chose
c1, c2 = st.columns(2)
metrics = sorted(result.results["metric"].unique())
metric = c1.selectbox(
    "Chart metric", metrics, index=metrics.index("ndcg") if "ndcg" in metrics else 0, key="cmp_metric"
)
k = c2.selectbox("k", sorted(result.results.loc[result.results["metric"] == metric, "k"].unique()), key="cmp_k")
st.plotly_chart(delta_bars(significance, metric, int(k), slice_name=slice_name), key="compare_chart")
if len(sweep_points(significance, metric, int(k), slice_name)):
    st.plotly_chart(budget_curve(significance, metric, int(k), slice_name), key="sweep_chart")

cost = cost_table(result)
cost_view(cost)
files = downloads(dataset, result, key, significance)
d1, d2, d3, d4 = st.columns(4)
d1.download_button("Results (CSV)", to_csv_bytes(result.results), "results.csv", "text/csv", key="download_results")
d2.download_button("Significance (CSV)", to_csv_bytes(significance), "significance.csv", key="download_significance")
d3.download_button("Cost (CSV)", to_csv_bytes(cost), "cost.csv", "text/csv", key="download_cost")
d4.download_button("HTML report", files.report_html.encode(), "recaug_report.html", "text/html", key="download_report")
if len(
    result.synthetic
):  # every seed's synthetic rows, as the CLI's augmented.csv (Fidelity and Embeddings point here)
    st.download_button(
        "Synthetic rows (augmented.csv)",
        to_csv_bytes(result.synthetic),
        "augmented.csv",
        "text/csv",
        key="download_augmented",
        help="Every seed's synthetic rows of every arm (columns variant and seed), as the CLI writes augmented.csv.",
    )
chosen_download(result.chosen, key="download_selection")
if files.run_id:
    st.caption(f"Saved as run `{files.run_id}` — see the Runs page.")
