"""The Compare page's table (intervals, q-values, seeds, users, noise floor) and the verdict in words."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st

from recaug.core.variants import ordered_variants
from recaug.evaluate.significance import (
    AA_CONTROL,
    MIN_SEEDS,
    NO_DIFFERENCE,
    NO_VERDICT,
    TOO_FEW_USERS,
    with_verdicts,
)
from recaug.experiment import compare_table
from ui.tables import MISSING, as_text, right_aligned

GREY = "color: #9ca3af"
VERDICT_STYLE = {
    "better": "color: #15803d",
    "worse": "color: #b91c1c",
    "higher": "color: #1d4ed8",
    "lower": "color: #1d4ed8",
}
METRIC_ORDER = ["ndcg", "recall", "precision", "hit", "mrr", "map"]  # accuracy first, beyond-accuracy after
UNCLEAR = (NO_DIFFERENCE, NO_VERDICT, TOO_FEW_USERS)
SIG_COLUMNS = ["ci_low", "ci_high", "p_ttest", "p_wilcoxon", "q_ttest", "n_seeds", "n_users", "se", "noise_floor"]


def merged_table(
    results: pd.DataFrame, significance: pd.DataFrame | None, slice_name: str, metrics: list[str] | None = None
) -> pd.DataFrame:
    """compare_table + interval, q-value, seeds, users, noise floor and verdict, for the rows a reader sees.

    The verdicts are recomputed over exactly these rows (one slice, the chosen metrics), so the Benjamini-Hochberg
    family is what is on screen; the A/A control is not a row here, it is each row's ``noise_floor``.
    """
    table = compare_table(results, slice_name)
    table = table[table["variant"] != AA_CONTROL]
    if metrics is not None:
        table = table[table["metric"].isin(metrics)]
    if significance is None or significance.empty:
        sig = pd.DataFrame(columns=["model", "variant", "metric", "k", *SIG_COLUMNS])
    else:
        sig = significance[significance["slice"] == slice_name]
        sig = sig[["model", "variant", "metric", "k", *[c for c in SIG_COLUMNS if c in sig.columns]]]
    table = table.merge(sig, on=["model", "variant", "metric", "k"], how="left")
    for column in SIG_COLUMNS:
        if column not in table.columns:
            table[column] = np.nan
    if table["n_seeds"].isna().all():  # a table written before n_seeds existed
        table["n_seeds"] = results["seed"].nunique()
    table = with_verdicts(table.assign(slice=slice_name)).drop(columns="slice")
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


LABELS = {
    "delta_pct": "Δ %",
    "delta": "Δ",
    "noise_floor": "A/A noise ±",
    "q_ttest": "q (BH)",
    "n_seeds": "seeds",
    "n_users": "users",
}
SHOWN = ["model", "variant", "metric", "baseline", "augmented", "delta", "delta_pct", "interval", "noise_floor"]
SHOWN += ["q_ttest", "n_seeds", "n_users", "verdict"]


def _number(pattern: str) -> Callable[[float], str]:
    return lambda value: pattern.format(value)


FORMATS = {
    "baseline": _number("{:.4f}"),
    "augmented": _number("{:.4f}"),
    "delta": _number("{:+.4f}"),
    "delta_pct": _number("{:+.1f}%"),
    "noise_floor": lambda value: "0 (no seed)" if value == 0 else f"{value:.4f}",  # deterministic models
    "q_ttest": _number("{:.3f}"),
    "n_seeds": _number("{:.0f}"),
    "n_users": _number("{:,.0f}"),
}
HELP = {
    "interval": "95% interval of Δ over seeds (t). The verdict is also corrected for the other rows shown, so an "
    "interval that excludes 0 can still be 'no clear difference'",
    "A/A noise ±": "Half-width of the interval the baseline gets against itself, refitted with fresh seeds",
    "q (BH)": "t-test p-value over seeds, Benjamini-Hochberg-adjusted over the rows shown",
    "verdict": "better/worse in the metric's own direction; needs ≥ 3 seeds and ≥ 30 users",
}


def display_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The table as text: metric@k in one column, the interval in one column, missing values as a dash."""
    shown = table.assign(
        metric=table["metric"] + "@" + table["k"].astype(str),
        interval=[
            MISSING if pd.isna(lo) else f"[{lo:+.4f}, {hi:+.4f}]"
            for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
        ],
    )
    shown = as_text(shown[[c for c in SHOWN if c in shown.columns]], FORMATS).fillna(MISSING)
    return shown.rename(columns=LABELS)


def comparison_table(table: pd.DataFrame, key: str = "compare_table") -> None:
    """Before/after table: Δ coloured by the verdict in the metric's own direction, unclear rows grey."""
    table = table.reset_index(drop=True)
    words = table["verdict"].fillna(NO_VERDICT).to_numpy()
    shown = display_frame(table)

    def row_style(row: pd.Series) -> list[str]:
        word = words[row.name]
        if word in UNCLEAR:
            return [GREY] * len(row)
        return [VERDICT_STYLE.get(word, "") if c in ("Δ", "Δ %", "verdict") else "" for c in row.index]

    config = {
        c: st.column_config.TextColumn(c, alignment="right", help=HELP.get(c))
        for c in [*(LABELS.get(c, c) for c in FORMATS), "interval"]
        if c in shown.columns
    }
    config["verdict"] = st.column_config.TextColumn("verdict", width="medium", help=HELP["verdict"])
    st.dataframe(shown.style.apply(row_style, axis=1), width="stretch", hide_index=True, key=key, column_config=config)


def verdict(table: pd.DataFrame, slice_name: str, metric: str = "ndcg", k: int = 10) -> None:
    """The verdict in words at metric@k: per augmenter, which models it helps or hurts, against the noise floor."""
    rows = table[(table["metric"] == metric) & (table["k"] == k)]
    if rows.empty:
        return
    n_seeds = int(rows["n_seeds"].max())
    users = rows["n_users"].dropna()
    lines = []
    for variant in ordered_variants(rows["variant"]):
        part = rows[rows["variant"] == variant]
        words = []
        for row in part.itertuples():
            inside = pd.notna(row.noise_floor) and abs(row.delta) <= row.noise_floor
            floor = " — inside the A/A noise floor" if inside else ""
            words.append(f"{row.model}: {row.verdict} (Δ {row.delta:+.4f}{floor})")
        lines.append(f"- **{variant}** — " + "; ".join(words) + ".")
    if n_seeds < MIN_SEEDS:
        plural = "s" if n_seeds != 1 else ""
        caveat = f"With {n_seeds} seed{plural} these are deltas only: a verdict needs ≥ {MIN_SEEDS} seeds."
    else:
        caveat = (
            "Intervals and tests are over seeds (each seed re-splits and retrains); verdicts are Benjamini-Hochberg "
            "adjusted over the rows shown."
        )
    count = f", {int(users.min()):,} users" if len(users) else ""
    st.markdown(
        f"**Verdict at {metric.upper()}@{k}, slice `{slice_name}` ({n_seeds} seeds{count}).** Grey rows are not "
        f"distinguishable from zero. {caveat}\n" + "\n".join(lines)
    )


COST_LABELS = {
    "variant": "variant",
    "budget": "budget (rows)",
    "budget_filled": "budget filled",
    "synthetic_rows": "synthetic rows",
    "users_touched": "users touched",
    "augment_seconds": "augment s",
    "fit_seconds": "fit s (all models)",
    "extra_fit_seconds": "extra fit s",
    "llm_calls": "LLM calls",
    "llm_tokens_in": "tokens in",
    "llm_tokens_out": "tokens out",
    "llm_cache_hit_rate": "cache hits",
    "llm_failures": "LLM failures",
    "llm_retries": "LLM retries",
}
PERCENT_COLUMNS = ("llm_cache_hit_rate", "budget_filled")


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
        label: _percent if column in PERCENT_COLUMNS else _seconds if "seconds" in column else _count
        for column, label in COST_LABELS.items()
        if label in shown.columns and column != "variant"
    }
    text = as_text(shown, formats)
    for column in text.columns.difference(list(formats)):  # any other column (e.g. added later): text, never "None"
        text[column] = [MISSING if pd.isna(v) else str(v) for v in text[column]]
    st.dataframe(
        text,
        hide_index=True,
        width="stretch",
        column_config=right_aligned(list(formats)),
        key="cost_table",
    )
