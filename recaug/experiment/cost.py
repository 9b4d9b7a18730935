"""What each augmentation cost: rows produced against the budget, seconds, extra training time and LLM usage.

A gain is only worth having at a price; this puts the price next to the verdict. Seconds are wall-clock
measurements of this run (they vary between runs, unlike the metrics); LLM counts come from the backends' usage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recaug.experiment import BASELINE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recaug.augment.llm.llm_common import LLMEstimate
    from recaug.experiment import ExperimentResult

COST_COLUMNS = [
    "variant",
    "budget",
    "budget_filled",
    "synthetic_rows",
    "users_touched",
    "virtual_users",
    "augment_seconds",
    "fit_seconds",
    "extra_fit_seconds",
    "llm_calls",
    "llm_tokens_in",
    "llm_tokens_out",
    "llm_cache_hit_rate",
    "llm_failures",
    "llm_retries",
    "llm_requests",
    "llm_estimate_requests",
    "skill_check_calls",
    "skill_check_tokens_in",
    "skill_check_tokens_out",
    "skill_check_seconds",
    "skill_check_failed_users",
]
# The skill check's own cost, apart from the augmentation's (llm_*): it is paid before any spending, even when the
# method then makes no call ("llm_calls 0" hid 123 calls a seed). 0 where the check was reused from an earlier one
# (another seed or method on the same training split, the page's "Check skill now"): that one paid for it.
SKILL_KEYS = {
    "skill_check_calls": "skill_calls",
    "skill_check_tokens_in": "skill_tokens_in",
    "skill_check_tokens_out": "skill_tokens_out",
    "skill_check_seconds": "skill_seconds",
    "skill_check_failed_users": "skill_failed",
}
LLM_KEYS = {
    "llm_calls": "calls",
    "llm_tokens_in": "tokens_in",
    "llm_tokens_out": "tokens_out",
    "llm_failures": "failures",
    "llm_retries": "retries",
}


def cost_table(result: ExperimentResult) -> pd.DataFrame:
    """One row per variant (baseline first), each value the mean over seeds.

    ``fit_seconds`` is the time to train every compared model on that variant's training data;
    ``extra_fit_seconds`` is that minus the baseline's, i.e. what the synthetic rows cost at training time; it can
    be negative when early stopping ends sooner on the augmented data.
    """
    info = pd.DataFrame(result.augment_info)
    fits = _fit_seconds(result.timings)
    baseline_fit = fits.get(BASELINE, np.nan)
    rows = [{"variant": BASELINE, "fit_seconds": baseline_fit, "extra_fit_seconds": 0.0}]
    for name in result.config.augmenters:
        mine = info[info["augmenter"] == name] if "augmenter" in info else info.iloc[0:0]
        row = {
            "variant": name,
            "budget": _mean(mine, "budget"),
            # Below 1 the method could not fill its budget (call cap, rejections, too few candidates): a comparison
            # against another method at the "same" budget is then not like for like.
            "budget_filled": _mean(mine, "kept") / _mean(mine, "budget") if _mean(mine, "budget") else np.nan,
            "synthetic_rows": _mean(mine, "kept"),
            "users_touched": _mean(mine, "users_touched"),  # real users given rows
            "virtual_users": _mean(mine, "virtual_users"),  # new users a generator made (GANs, mixup)
            "augment_seconds": float(np.mean(_augment_seconds(result.timings, name) or [np.nan])),
            "fit_seconds": fits.get(name, np.nan),
            "extra_fit_seconds": fits.get(name, np.nan) - baseline_fit,
        }
        if "calls" in mine and mine["calls"].notna().any():
            row.update({column: _mean(mine, key) for column, key in LLM_KEYS.items()})
            row["llm_cache_hit_rate"] = _mean(mine, "cache_hit_rate")
            # Every HTTP request a server saw: the calls' (retries included) and the set-up's (model list, scoring
            # probe) per seed, and the pre-run estimate's once for the run (0 for a local model).
            row["llm_requests"] = _mean(mine, "requests") + (
                _mean(mine, "setup_requests") if "setup_requests" in mine else 0
            )
            row["llm_estimate_requests"] = (
                float(pd.to_numeric(mine["estimate_requests"], errors="coerce").sum())
                if "estimate_requests" in mine
                else 0.0
            )
        if "skill_calls" in mine and mine["skill_calls"].notna().any():
            reused = (
                mine["skill_cached"].fillna(False).astype(bool)
                if "skill_cached" in mine
                else pd.Series(False, index=mine.index)
            )
            paid = mine.assign(**{key: mine[key].where(~reused, 0) for key in SKILL_KEYS.values() if key in mine})
            row.update({column: _mean(paid, key) if key in paid else 0.0 for column, key in SKILL_KEYS.items()})
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=COST_COLUMNS)


def count_estimate_requests(result: ExperimentResult, estimates: Sequence[LLMEstimate]) -> None:
    """Record each pre-run estimate's HTTP requests in its variant's first augment info (``estimate_requests``),
    so ``cost.csv`` and the run store count them with the run's own."""
    for estimate in estimates:
        first = next((info for info in result.augment_info if info.get("augmenter") == estimate.augmenter), None)
        if first is not None:
            first["estimate_requests"] = int(estimate.requests)


def _mean(frame: pd.DataFrame, column: str) -> float:
    return float(pd.to_numeric(frame[column], errors="coerce").mean()) if column in frame and len(frame) else np.nan


def _augment_seconds(timings: dict[str, float], name: str) -> list[float]:
    """``augment:<name>:<seed>`` entries; names may contain ':'-free dashes only, so the split is safe."""
    return [seconds for key, seconds in timings.items() if key.rsplit(":", 1)[0] == f"augment:{name}"]


def _fit_seconds(timings: dict[str, float]) -> dict[str, float]:
    """Per variant: seconds to fit all models, summed over models and averaged over seeds."""
    per_seed: dict[tuple[str, str], float] = {}
    for key, seconds in timings.items():
        kind, _model, *variant_parts, seed = key.split(":")
        if kind != "fit":
            continue
        variant = ":".join(variant_parts)
        per_seed[(variant, seed)] = per_seed.get((variant, seed), 0.0) + seconds
    by_variant: dict[str, list[float]] = {}
    for (variant, _seed), seconds in per_seed.items():
        by_variant.setdefault(variant, []).append(seconds)
    return {variant: float(np.mean(values)) for variant, values in by_variant.items()}
