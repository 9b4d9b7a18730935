"""The Compare page's table and the plain-words verdict."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recaug.experiment import ExperimentResult, compare_table


def _style_delta(value: float) -> str:
    if pd.isna(value) or abs(value) < 1e-12:
        return ""
    return "color: #15803d" if value > 0 else "color: #b91c1c"


def comparison_table(result: ExperimentResult, slice_name: str) -> None:
    """Before/after table per model x variant x metric@k, deltas coloured."""
    table = compare_table(result.results, slice_name)
    styled = table.style.format(
        {"baseline": "{:.4f}", "augmented": "{:.4f}", "delta": "{:+.4f}", "delta_pct": "{:+.1f}%"}, na_rep="–"
    ).map(_style_delta, subset=["delta", "delta_pct"])
    st.dataframe(styled, width="stretch", hide_index=True, key="compare_table")


def verdict(result: ExperimentResult, slice_name: str, metric: str = "ndcg", k: int = 10) -> None:
    """One sentence per augmenter: does it help the best baseline model on this slice?"""
    table = compare_table(result.results, slice_name)
    rows = table[(table["metric"] == metric) & (table["k"] == k)]
    if rows.empty:
        return
    lines = []
    for variant, part in rows.groupby("variant"):
        helped = part[part["delta"] > 0]["model"].tolist()
        hurt = part[part["delta"] < 0]["model"].tolist()
        words = []
        if helped:
            words.append(f"raises {metric.upper()}@{k} for {', '.join(helped)}")
        if hurt:
            words.append(f"lowers it for {', '.join(hurt)}")
        lines.append(f"- **{variant}** " + (" and ".join(words) if words else "changes nothing") + ".")
    n_seeds = result.results["seed"].nunique()
    caveat = (
        ""
        if n_seeds >= 3
        else f" With {n_seeds} seed(s) these are point estimates: run 3 or more seeds before trusting small deltas."
    )
    st.markdown(f"**Verdict on slice `{slice_name}`.**{caveat}\n" + "\n".join(lines))
