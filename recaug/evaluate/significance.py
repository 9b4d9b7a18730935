"""Is an augmented model's change real? Paired tests over seeds and a paired bootstrap CI over users.

For every (model, augmented variant, slice, metric, k), against the baseline with the same model, seed and split:

* ``delta``: mean over seeds of (variant - baseline);
* ``p_ttest`` / ``p_wilcoxon``: paired t-test and Wilcoxon signed-rank test over seeds (``scipy.stats``). With
  fewer than two seeds they are NaN; when every seed's delta is exactly 0 they are 1. With three seeds the exact
  Wilcoxon p-value can never go below 0.25, so read it as a sign check, not as evidence;
* ``q_ttest``: ``p_ttest`` adjusted for multiple comparisons (Benjamini-Hochberg) within each slice, i.e. over
  every model, variant, metric and k a reader scans in one view; with many rows some raw p-values fall below 0.05
  by chance, the q-values control the expected share of such false discoveries;
* ``ci_low`` / ``ci_high``: percentile interval of a paired bootstrap over users: users are resampled within each
  seed (the same resample for baseline and variant, so pairing is kept) and the per-seed mean deltas are averaged
  over seeds, as ``delta`` is. List-level metrics (coverage, Gini) have no per-user values, so no CI (NaN).

The bootstrap is seeded, so the table is identical run to run. A CI that contains 0 means "no clear difference".
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from recaug.evaluate.catalog import METRIC_INFO
from recaug.evaluate.slices import SliceValues

BASELINE = "baseline"
SIGNIFICANCE_COLUMNS = [
    "model",
    "variant",
    "slice",
    "metric",
    "k",
    "delta",
    "ci_low",
    "ci_high",
    "p_ttest",
    "p_wilcoxon",
    "q_ttest",
]
KEYS = ["model", "variant", "slice", "metric", "k"]
SliceStore = Mapping[tuple[str, str, int], Mapping[str, SliceValues]]


def _by_length(test: Callable[[np.ndarray], np.ndarray], rows: list[np.ndarray], min_len: int) -> np.ndarray:
    """Apply a vectorised scipy test to ragged rows, one call per row length (scipy's own ragged path is slow)."""
    out = np.full(len(rows), np.nan)
    lengths = np.array([len(row) for row in rows], dtype=int)
    for length in np.unique(lengths[lengths >= min_len]):
        idx = np.flatnonzero(lengths == length)
        out[idx] = test(np.vstack([rows[i] for i in idx]))
    return out


def seed_tests(deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p_ttest, p_wilcoxon) per row of paired per-seed deltas (rows x seeds; NaN = seed missing).

    NaN where a test is undefined: fewer than two seeds, or (t-test) constant non-zero deltas; 1 where every delta
    is exactly 0. Wilcoxon drops zero deltas (scipy's default ``zero_method="wilcox"``).
    """
    from scipy import stats

    deltas = np.atleast_2d(np.asarray(deltas, dtype=np.float64))
    present = [row[~np.isnan(row)] for row in deltas]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_t = _by_length(lambda m: stats.ttest_1samp(m, 0.0, axis=1).pvalue, present, 2)
        p_w = _by_length(lambda m: stats.wilcoxon(m, axis=1).pvalue, [row[row != 0] for row in present], 1)
    counts = np.array([len(row) for row in present], dtype=int)
    all_zero = np.array([not np.any(row) for row in present]) & (counts >= 2)
    constant = np.array([len(row) > 0 and np.ptp(row) == 0 for row in present]) & ~all_zero
    p_t[constant | (counts < 2)] = np.nan
    p_w[counts < 2] = np.nan
    p_t[all_zero], p_w[all_zero] = 1.0, 1.0
    return p_t, p_w


def _seed_deltas(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, variant, slice, metric, k, seed) with the paired delta to the baseline."""
    base = results[results["variant"] == BASELINE].drop(columns="variant").rename(columns={"value": "baseline"})
    other = results[results["variant"] != BASELINE]
    merged = other.merge(base, on=["model", "seed", "slice", "metric", "k"], how="inner")
    return merged.assign(delta=merged["value"] - merged["baseline"])


def bootstrap_means(diffs: np.ndarray, n_boot: int, key: tuple[Any, ...]) -> np.ndarray:
    """(n_boot, metrics) means of ``diffs`` (users x metrics) over users resampled with replacement.

    The resample is a pure function of ``key`` and the user count, so every model and variant compared on one slice
    and seed gets the same one. Drawn in chunks, so memory stays small for large user counts.
    """
    n = len(diffs)
    rng = np.random.default_rng([zlib.crc32(repr(key).encode()), n, n_boot])
    chunk = max(1, 4_000_000 // max(n, 1))
    out = []
    for start in range(0, n_boot, chunk):
        rows = min(chunk, n_boot - start)
        draws = rng.integers(0, n, size=(rows, n)) + n * np.arange(rows)[:, None]
        counts = np.bincount(draws.ravel(), minlength=rows * n).reshape(rows, n)
        out.append(counts @ diffs / n)
    return np.vstack(out)


def _paired_differences(base: SliceValues, variant: SliceValues, keys: list[tuple[str, int]]) -> np.ndarray:
    """(users x metrics) variant - baseline on the users both slices contain."""
    common, in_base, in_variant = np.intersect1d(base.users, variant.users, return_indices=True)
    return (
        np.column_stack([variant.values[key][in_variant] - base.values[key][in_base] for key in keys])
        if len(common)
        else np.zeros((0, len(keys)))
    )


def bootstrap_cis(store: SliceStore, *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """ci_low/ci_high per (model, variant, slice, metric, k) from the per-user slice values of every seed."""
    tail = 100 * (1 - confidence) / 2
    rows: list[dict[str, Any]] = []
    groups: dict[tuple[str, str, str], list[tuple[int, SliceValues, SliceValues]]] = {}
    for (model, variant, run_seed), slices in store.items():
        if variant == BASELINE or (model, BASELINE, run_seed) not in store:
            continue
        base_slices = store[(model, BASELINE, run_seed)]
        for name, sliced in slices.items():
            if name in base_slices:
                groups.setdefault((model, variant, name), []).append((run_seed, base_slices[name], sliced))
    for (model, variant, name), runs in groups.items():
        keys = sorted(set.intersection(*(set(b.values) & set(v.values) for _, b, v in runs)))
        if not keys:
            continue
        replicates = []
        for run_seed, base, sliced in runs:
            diffs = _paired_differences(base, sliced, keys)
            if len(diffs):
                replicates.append(bootstrap_means(diffs, n_boot, (seed, name, run_seed)))
        if not replicates:
            continue
        boot = np.mean(replicates, axis=0)
        low, high = np.percentile(boot, [tail, 100 - tail], axis=0)
        rows.extend(
            {
                "model": model,
                "variant": variant,
                "slice": name,
                "metric": metric,
                "k": k,
                "ci_low": float(lo),
                "ci_high": float(hi),
            }
            for (metric, k), lo, hi in zip(keys, low, high, strict=True)
        )
    return pd.DataFrame(rows, columns=[*KEYS, "ci_low", "ci_high"])


def significance_from_results(
    results: pd.DataFrame,
    slice_values: SliceStore | None = None,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """The significance table from a tidy results table (and, for CIs, the per-user slice values)."""
    deltas = _seed_deltas(results)
    wide = deltas.groupby([*KEYS, "seed"], sort=False)["delta"].mean().unstack("seed")  # NaN: seed missing
    wide = wide.reindex(pd.MultiIndex.from_frame(deltas[KEYS].drop_duplicates()))  # keep the results' order
    p_t, p_w = seed_tests(wide.to_numpy()) if len(wide) else (np.zeros(0), np.zeros(0))
    table = wide.mean(axis=1).rename("delta").reset_index().assign(p_ttest=p_t, p_wilcoxon=p_w)
    table["q_ttest"] = table.groupby("slice", sort=False)["p_ttest"].transform(benjamini_hochberg)
    if slice_values:
        cis = bootstrap_cis(slice_values, n_boot=n_boot, confidence=confidence, seed=seed)
        table = table.merge(cis, on=KEYS, how="left")
    else:
        table = table.assign(ci_low=np.nan, ci_high=np.nan)
    return table[SIGNIFICANCE_COLUMNS].reset_index(drop=True)


def benjamini_hochberg(p_values: pd.Series) -> pd.Series:
    """BH-adjusted p-values (q-values); NaN p-values stay NaN and do not count as tests."""
    q = pd.Series(np.nan, index=p_values.index)
    valid = p_values.dropna()
    if valid.empty:
        return q
    order = np.argsort(valid.to_numpy(), kind="stable")
    ranked = valid.to_numpy()[order] * len(valid) / np.arange(1, len(valid) + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    q.loc[valid.index[order]] = adjusted
    return q


def significance_table(result: Any, *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """``model,variant,slice,metric,k,delta,ci_low,ci_high,p_ttest,p_wilcoxon,q_ttest`` for an ``ExperimentResult``.

    A result without per-user slice values (e.g. a results table reloaded from disk) gets NaN CIs.
    """
    return significance_from_results(
        result.results, getattr(result, "slice_values", None), n_boot=n_boot, confidence=confidence, seed=seed
    )


def verdict(table: pd.DataFrame) -> pd.Series:
    """Words for each row: 'better' / 'worse' when the CI excludes 0, 'higher' / 'lower' for metrics with no good
    direction (popularity), 'no clear difference' when it crosses 0, 'no CI' without one."""

    def word(row: pd.Series) -> str:
        if np.isnan(row["ci_low"]) or np.isnan(row["ci_high"]):
            return "no CI"
        if row["ci_low"] <= 0 <= row["ci_high"]:
            return "no clear difference"
        up = row["ci_low"] > 0
        direction = METRIC_INFO[row["metric"]].higher_is_better if row["metric"] in METRIC_INFO else None
        if direction is None:
            return "higher" if up else "lower"
        return "better" if up == direction else "worse"

    return table.apply(word, axis=1) if len(table) else pd.Series(dtype=object)
