"""What readers see for the internal column names of the cost, verdict and augmenter tables.

One place for the dashboard and the HTML report: the CSVs keep the ids (scripts read them), every table people read
shows these words, and shares (``budget_filled``, cache hits) read as percentages in both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

COST_LABELS = {
    "variant": "variant",
    "budget": "budget (rows)",
    "budget_filled": "budget filled",
    "synthetic_rows": "synthetic rows",
    "users_touched": "real users given rows",
    "virtual_users": "virtual users created",
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
# Shares of 1 that read as percentages wherever a person sees them.
PERCENT_COLUMNS = ("llm_cache_hit_rate", "budget_filled")

# The verdict table's columns as the Compare page heads them.
SIGNIFICANCE_LABELS = {
    "delta_pct": "Δ %",
    "delta": "Δ",
    "ci_low": "interval low",
    "ci_high": "interval high",
    "noise_floor": "seed noise ±",
    "q_ttest": "q (BH)",
    "p_ttest": "p (t-test)",
    "p_wilcoxon": "p (Wilcoxon)",
    "mde": "detectable ±",
    "n_seeds": "seeds",
    "n_users": "users",
    "se": "standard error",
    "seeds_to_decide": "seeds to decide",
    "higher_is_better": "higher is better",
}
# The augmenter record's own words (augment_info), beyond the cost table's.
AUGMENTER_LABELS = {
    "augmenter": "method",
    "kept": "rows kept",
    "proposed": "rows proposed",
    "synthetic_share": "synthetic rows per real row",
    "denoise_dropped": "dropped as least plausible",
    "denoise_scored": "rows denoising scored",
    "denoise_plausibility_kept": "plausibility of kept rows",
    "denoise_plausibility_dropped": "plausibility of dropped rows",
    "seconds": "augment s",
    "fit_seconds": "augmenter fit s",  # its own fit; the cost table's fit_seconds is every model's
}


def column_label(name: str, *extra: Mapping[str, str]) -> str:
    """The readable header of column ``name``: from ``extra`` dicts first, then the shared ones, else its words."""
    for labels in (*extra, COST_LABELS, SIGNIFICANCE_LABELS, AUGMENTER_LABELS):
        if name in labels:
            return labels[name]
    return name.replace("_", " ")


def percent(value: float) -> str:
    """A share of 1 as a percentage, e.g. 0.212 -> '21%'."""
    return f"{value:.0%}"


def readable_table(frame: pd.DataFrame, *extra: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` for people: shares as percentages, yes/no for true/false, readable headers (:func:`column_label`).
    Other numbers keep their values (the caller formats them)."""
    shown = frame.copy()
    formats: dict[str, Callable[[object], object]] = {}
    for column in shown.columns:
        if column in PERCENT_COLUMNS:
            formats[column] = lambda v: "–" if pd.isna(v) else percent(float(v))  # type: ignore[arg-type]
        elif shown[column].map(lambda v: isinstance(v, bool)).any():
            formats[column] = lambda v: "yes" if v is True else "no" if v is False else "–"
    for column, fmt in formats.items():
        shown[column] = [fmt(v) for v in shown[column]]
    return shown.rename(columns={c: column_label(str(c), *extra) for c in shown.columns})
