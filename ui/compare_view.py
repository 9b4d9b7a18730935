"""The Compare page's table (with CIs and p-values) and the plain-words verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from recaug.evaluate.significance import verdict as significance_words
from recaug.experiment import compare_table
from recaug.variants import ordered_variants
from ui.tables import as_text, right_aligned

GREY = "color: #9ca3af"
METRIC_ORDER = ["ndcg", "recall", "precision", "hit", "mrr", "map"]  # accuracy first, beyond-accuracy after


def merged_table(results: pd.DataFrame, significance: pd.DataFrame | None, slice_name: str) -> pd.DataFrame:
    """compare_table + CI, p-values and a one-word verdict per row."""
    table = compare_table(results, slice_name)
    if significance is None or significance.empty:
        return _ordered(
            table.assign(
                ci_low=np.nan, ci_high=np.nan, p_ttest=np.nan, p_wilcoxon=np.nan, q_ttest=np.nan, verdict="no CI"
            )
        )
    sig = significance[significance["slice"] == slice_name].drop(columns=["slice", "delta"])
    table = table.merge(sig, on=["model", "variant", "metric", "k"], how="left")
    table["verdict"] = significance_words(table) if len(table) else []
    return _ordered(table)


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    rank = {name: position for position, name in enumerate(METRIC_ORDER)}
    order = table["metric"].map(lambda m: rank.get(m, len(rank)))
    variant_rank = {name: position for position, name in enumerate(ordered_variants(table["variant"]))}
    return (
        table.assign(_order=order, _variant=table["variant"].map(variant_rank))
        .sort_values(["_order", "metric", "k", "model", "_variant"], kind="stable")
        .drop(columns=["_order", "_variant"])
        .reset_index(drop=True)
    )


def comparison_table(table: pd.DataFrame, key: str = "compare_table") -> None:
    """Before/after table; deltas green/red, whole row grey when the CI of the delta crosses zero."""
    table = table.reset_index(drop=True)
    uncertain = table["verdict"].isin(["no clear difference", "no CI"]).to_numpy()

    def row_style(row: pd.Series) -> list[str]:
        if uncertain[row.name]:
            return [GREY] * len(row)
        colour = "#15803d" if row["delta"] > 0 else "#b91c1c"
        return [f"color: {colour}" if c in ("delta", "delta_pct") else "" for c in row.index]

    fmt = {
        "baseline": "{:.4f}",
        "augmented": "{:.4f}",
        "delta": "{:+.4f}",
        "delta_pct": "{:+.1f}%",
        "ci_low": "{:+.4f}",
        "ci_high": "{:+.4f}",
        "p_ttest": "{:.3f}",
        "p_wilcoxon": "{:.3f}",
        "q_ttest": "{:.3f}",
    }
    numeric = ["baseline", "augmented", "delta", "delta_pct", "ci_low", "ci_high", "p_ttest", "p_wilcoxon", "q_ttest"]
    table = table.astype({c: float for c in numeric if c in table.columns})
    # e.g. p-values with one seed: an all-empty column says nothing (the verdict text explains why).
    table = table.drop(columns=[c for c in numeric if c in table.columns and table[c].isna().all()])
    fmt = {column: pattern for column, pattern in fmt.items() if column in table.columns}
    styled = table.style.format(fmt, na_rep="–").apply(row_style, axis=1)
    st.dataframe(styled, width="stretch", hide_index=True, key=key)


def verdict(table: pd.DataFrame, n_seeds: int, slice_name: str, metric: str = "ndcg", k: int = 10) -> None:
    """One line per augmenter at metric@k: which models it helps or hurts, and whether the CI supports it."""
    rows = table[(table["metric"] == metric) & (table["k"] == k)]
    if rows.empty:
        return
    lines = []
    for variant in ordered_variants(rows["variant"]):
        part = rows[rows["variant"] == variant]
        clear = part[~part["verdict"].isin(["no clear difference", "no CI"])]
        unclear = part[part["verdict"].isin(["no clear difference", "no CI"])]
        words = [f"{row.model}: {row.verdict} ({row.delta:+.4f})" for row in clear.itertuples()]
        if len(unclear):
            words.append(f"no clear difference for {', '.join(unclear['model'])} (the 95% CI of Δ crosses zero)")
        lines.append(f"- **{variant}** — " + "; ".join(words) + ".")
    caveat = (
        "CIs are paired bootstraps over test users; p-values are paired tests over seeds."
        if n_seeds >= 2
        else "CIs are paired bootstraps over test users; with one seed there are no p-values — use 3+ seeds."
    )
    st.markdown(
        f"**Verdict at {metric.upper()}@{k}, slice `{slice_name}`.** Rows in grey are not distinguishable "
        f"from zero. {caveat}\n" + "\n".join(lines)
    )


COST_LABELS = {
    "variant": "variant",
    "synthetic_rows": "synthetic rows",
    "users_touched": "users touched",
    "augment_seconds": "augment s",
    "fit_seconds": "fit s (all models)",
    "extra_fit_seconds": "extra fit s",
    "llm_calls": "LLM calls",
    "llm_tokens_in": "tokens in",
    "llm_tokens_out": "tokens out",
    "llm_cache_hit_rate": "cache hits",
}


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _seconds(value: float) -> str:
    return f"{value:,.2f}"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def cost_view(cost: pd.DataFrame) -> None:
    """The price of each method next to its verdict: rows, seconds, extra training time, LLM usage."""
    st.markdown(
        "**Cost** — means over seeds; seconds are wall-clock on this machine and vary between runs. Extra fit time "
        "can be negative: early stopping may stop sooner on augmented data."
    )
    shown = cost.dropna(axis=1, how="all").rename(columns=COST_LABELS)
    formats = {
        label: _percent if column == "llm_cache_hit_rate" else _seconds if "seconds" in column else _count
        for column, label in COST_LABELS.items()
        if label in shown.columns and column != "variant"
    }
    st.dataframe(
        as_text(shown, formats),
        hide_index=True,
        width="stretch",
        column_config=right_aligned(list(formats)),
        key="cost_table",
    )
