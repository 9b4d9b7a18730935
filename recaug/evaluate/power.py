"""How small a change a comparison can see, and how many seeds an undecided change needs (issue 17).

For a seed-level two-sided t-test at level ``alpha`` with ``n`` seeds and per-seed spread ``sd`` of the delta, the
minimum detectable effect at power ``1 - beta`` is the usual approximation

    mde = (t(1 - alpha/2, n - 1) + t(1 - beta, n - 1)) * sd / sqrt(n).

Primary rows are judged at the level their family and look allow (Bonferroni's ``alpha / m`` is the threshold a lone
real row meets under Benjamini-Hochberg, and the look's spent alpha under the sequential rule), so their ``mde``
uses that level; exploratory rows use ``alpha`` itself (they are never judged, the number says what one test could
see). ``benchmarks/power.md`` checks these formulas against resampled real runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

POWER = 0.8
MAX_SEEDS_SHOWN = 200  # beyond this "how many seeds would decide it" is answered "more than 200"


def _t(q: float | np.ndarray, df: np.ndarray) -> np.ndarray:
    from scipy import stats

    return np.asarray(stats.t.ppf(q, df), dtype=np.float64)


def mde(sd: np.ndarray | pd.Series, n: np.ndarray | pd.Series, level: np.ndarray | pd.Series | float) -> np.ndarray:
    """Smallest |delta| detected with 80% power by a two-sided seed-level t-test at ``level`` (NaN under 2 seeds)."""
    sd, n = np.asarray(sd, dtype=np.float64), np.asarray(n, dtype=np.float64)
    level = np.broadcast_to(np.asarray(level, dtype=np.float64), n.shape)
    df = np.clip(n - 1, 1, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (_t(1 - level / 2, df) + _t(POWER, df)) * sd / np.sqrt(np.clip(n, 1, None))
    return np.where(n >= 2, out, np.nan)


def seeds_to_decide(
    delta: np.ndarray | pd.Series, sd: np.ndarray | pd.Series, level: np.ndarray | pd.Series | float
) -> np.ndarray:
    """Seeds at which a true change of size ``delta`` (with this per-seed ``sd``) is detected with 80% power.

    NaN where there is nothing to decide (no spread or no delta); ``MAX_SEEDS_SHOWN + 1`` where more are needed.
    """
    delta, sd = np.abs(np.asarray(delta, dtype=np.float64)), np.asarray(sd, dtype=np.float64)
    level = np.broadcast_to(np.asarray(level, dtype=np.float64), delta.shape)
    out = np.full(delta.shape, np.nan)
    candidates = np.arange(3, MAX_SEEDS_SHOWN + 1, dtype=np.float64)
    live = (delta > 0) & (sd > 0) & np.isfinite(sd) & np.isfinite(level)
    for value in np.unique(level[live]):
        rows = np.flatnonzero(live & (level == value))
        factor = mde(np.ones_like(candidates), candidates, value)  # decreasing in n: the MDE per unit of sd
        position = np.searchsorted(-factor, -(delta[rows] / sd[rows]), side="left")
        out[rows] = np.where(position < len(candidates), candidates[np.minimum(position, len(candidates) - 1)], 0)
        out[rows[position >= len(candidates)]] = MAX_SEEDS_SHOWN + 1
    return out


def power_sentence(mde_value: float, n_seeds: int, label: str, seeds_needed: float | None = None) -> str:
    """'with 3 seeds this comparison can tell apart changes of ±0.011 NDCG@10 or more' (+ seeds that would decide)."""
    if pd.isna(mde_value):
        return ""
    text = f"with {n_seeds} seeds this comparison can tell apart changes of ±{mde_value:.3g} {label} or more"
    if seeds_needed is not None and pd.notna(seeds_needed):
        more = f"more than {MAX_SEEDS_SHOWN}" if seeds_needed > MAX_SEEDS_SHOWN else f"about {int(seeds_needed)}"
        text += f"; a change the size of this Δ needs {more} seeds to be decided"
    return text
