"""Is an augmented model's change real? Seed-level inference, corrected for the many rows a reader scans.

The replicate (seed) is the unit of inference. Each seed re-splits the data and retrains every model, so the
per-seed deltas ``d_s = variant_s - baseline_s`` are independent draws that carry every source of noise: the split,
the model's initialisation and sampling, and the test users. A bootstrap over test users within one seed misses the
first two (baseline and variant share the model seed, so per-user differences shrink while the mean still moves with
training noise); on ML-100k it gave intervals half as wide as the seeds' real spread and labelled a one-row random
augmentation "better" in 6 of 20 rows. ``benchmarks/null_calibration.md`` measures the calibration of the rule
below.

For every (model, variant, slice, metric, k), against the baseline with the same model, seed and split:

* ``delta``: mean over seeds of ``d_s``; ``se``: its standard error ``sd(d_s) / sqrt(n)``;
* ``p_ttest``: one-sample t-test of ``d_s`` against 0 (``n - 1`` degrees of freedom); ``p_wilcoxon``: Wilcoxon
  signed-rank over seeds, a sign check (with 3 seeds it cannot go below 0.25);
* ``q_ttest``: Benjamini-Hochberg-adjusted ``p_ttest`` within a family of rows (each slice; the A/A control rows
  form their own family, so the control never dilutes the real variants);
* ``ci_low`` / ``ci_high``: the row's own 95% seed-level t-interval (``delta ± t(n-1) * se``). A row judged
  better/worse always has an interval that excludes 0 (q ≤ alpha implies p ≤ alpha); a row whose interval excludes
  0 may still be "no clear difference" once corrected for the other rows in view. (Intervals adjusted for the
  whole family, e.g. false-coverage-rate intervals, were tried: with 3 seeds and a dozen rows they reach about
  15 standard errors and read as nonsense next to the noise floor.);
* ``noise_floor``: half-width of the interval an A/A control gets (the baseline retrained on the same data with
  fresh seeds): ``t(n) * rms(aa_s) / sqrt(n)``. A delta inside it is indistinguishable from re-seeding the baseline;
* ``n_seeds``, ``n_users`` (the fewest users the slice had over seeds) and ``verdict``: ``better`` / ``worse``
  (``higher`` / ``lower`` for metrics with no good direction, e.g. popularity), ``no clear difference``,
  ``no verdict: needs ≥ 3 seeds`` or ``too few users`` (under 30; such rows also get no interval).

Everything is a pure function of the results table, so the table is identical run to run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from recaug.evaluate.catalog import METRIC_INFO
from recaug.evaluate.slices import SliceValues

BASELINE = "baseline"
AA_CONTROL = "A/A control"  # the baseline retrained with fresh seeds on the same training data (the noise floor)
MIN_SEEDS = 3
MIN_USERS = 30
ALPHA = 0.05
NO_VERDICT = "no verdict: needs ≥ 3 seeds"
TOO_FEW_USERS = "too few users"
NO_DIFFERENCE = "no clear difference"
VERDICTS = ("better", "worse", "higher", "lower", NO_DIFFERENCE, NO_VERDICT, TOO_FEW_USERS)
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
    "n_seeds",
    "n_users",
    "se",
    "noise_floor",
    "verdict",
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

    NaN with fewer than two seeds. Every delta exactly 0: 1. Identical non-zero deltas (no spread at all): the
    t-statistic is infinite, so p_ttest is 0. Wilcoxon drops zero deltas (scipy's ``zero_method="wilcox"``).
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
    constant = np.array([len(row) > 0 and np.ptp(row) == 0 for row in present]) & ~all_zero & (counts >= 2)
    p_t[counts < 2] = np.nan
    p_w[counts < 2] = np.nan
    p_t[constant] = 0.0
    p_t[all_zero], p_w[all_zero] = 1.0, 1.0
    return p_t, p_w


def _seed_deltas(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, variant, slice, metric, k, seed) with the paired delta to the baseline."""
    base = results[results["variant"] == BASELINE].drop(columns="variant").rename(columns={"value": "baseline"})
    base = base[["model", "seed", "slice", "metric", "k", "baseline"]]
    other = results[results["variant"] != BASELINE]
    merged = other.merge(base, on=["model", "seed", "slice", "metric", "k"], how="inner")
    return merged.assign(delta=merged["value"] - merged["baseline"])


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


def _direction_word(metric: str, up: bool) -> str:
    direction = METRIC_INFO[metric].higher_is_better if metric in METRIC_INFO else None
    if direction is None:
        return "higher" if up else "lower"
    return "better" if up == direction else "worse"


def with_verdicts(table: pd.DataFrame, *, family: list[str] | None = None, alpha: float = ALPHA) -> pd.DataFrame:
    """(Re)compute ``q_ttest``, the adjusted interval and ``verdict`` over the rows of ``table``.

    Call it on exactly the rows a reader sees (e.g. one slice on the Compare page): the multiple-comparison family is
    those rows, grouped by ``family`` (default: slice, with the A/A control apart). Needs ``delta``, ``se``,
    ``p_ttest``, ``n_seeds`` and ``n_users``.
    """
    from scipy import stats

    out = table.copy()
    if out.empty:
        return out.assign(verdict=pd.Series(dtype=object))
    n_seeds = out["n_seeds"].fillna(0).astype(int)
    few_users = out["n_users"].notna() & (out["n_users"] < MIN_USERS)
    testable = (n_seeds >= MIN_SEEDS) & ~few_users & out["p_ttest"].notna()
    groups = family or ["slice"]
    control = out["variant"].eq(AA_CONTROL).rename("_control")
    keys = [out[c] for c in groups] + [control]
    out["q_ttest"] = out["p_ttest"].where(testable).groupby(keys, sort=False).transform(benjamini_hochberg)
    df = (n_seeds - 1).clip(lower=1)
    half = stats.t.ppf(1 - alpha / 2, df) * out["se"]
    shown = (n_seeds >= 2) & ~few_users
    out["ci_low"] = (out["delta"] - half).where(shown)
    out["ci_high"] = (out["delta"] + half).where(shown)
    chosen = testable & (out["q_ttest"] <= alpha)
    words = [
        _direction_word(metric, delta > 0) if pick else NO_DIFFERENCE
        for metric, delta, pick in zip(out["metric"], out["delta"], chosen, strict=True)
    ]
    verdicts = pd.Series(words, index=out.index, dtype=object)
    verdicts[few_users] = TOO_FEW_USERS
    verdicts[n_seeds < MIN_SEEDS] = NO_VERDICT
    out["verdict"] = verdicts
    return out


def _slice_users(results: pd.DataFrame, slice_values: SliceStore | None) -> pd.DataFrame:
    """n_users per (model, variant, slice): the fewest users the slice had over seeds."""
    if "n_users" in results.columns:
        frame = results[["model", "variant", "slice", "seed", "n_users"]]
    elif slice_values:
        frame = pd.DataFrame(
            [
                {"model": m, "variant": v, "slice": name, "seed": s, "n_users": len(values.users)}
                for (m, v, s), slices in slice_values.items()
                for name, values in slices.items()
            ]
        )
    else:
        return pd.DataFrame(columns=["model", "variant", "slice", "n_users"])
    users = frame.groupby(["model", "variant", "slice", "seed"], sort=False)["n_users"].max()
    return users.groupby(["model", "variant", "slice"], sort=False).min().reset_index()


def _noise_floor(wide: pd.DataFrame) -> pd.Series:
    """Per (model, slice, metric, k): the half-width of the A/A control's interval around 0."""
    from scipy import stats

    if AA_CONTROL not in wide.index.get_level_values("variant"):
        return pd.Series(dtype=float)
    control = wide.xs(AA_CONTROL, level="variant")
    n = control.notna().sum(axis=1)
    rms = np.sqrt((control**2).mean(axis=1))
    floor = stats.t.ppf(1 - ALPHA / 2, n.clip(lower=1)) * rms / np.sqrt(n.clip(lower=1))
    return floor.where(n >= 2).rename("noise_floor")


def significance_from_results(
    results: pd.DataFrame, slice_values: SliceStore | None = None, *, alpha: float = ALPHA
) -> pd.DataFrame:
    """The significance table (columns ``SIGNIFICANCE_COLUMNS``) from a tidy results table.

    ``slice_values`` (per-user values of an in-memory run) only supply ``n_users`` when the results table has no
    ``n_users`` column (tables written before it existed).
    """
    deltas = _seed_deltas(results)
    if deltas.empty:
        return pd.DataFrame(columns=SIGNIFICANCE_COLUMNS)
    wide = deltas.groupby([*KEYS, "seed"], sort=False)["delta"].mean().unstack("seed")  # NaN: seed missing
    wide = wide.reindex(pd.MultiIndex.from_frame(deltas[KEYS].drop_duplicates()))  # keep the results' order
    p_t, p_w = seed_tests(wide.to_numpy())
    n_seeds = wide.notna().sum(axis=1)
    table = pd.DataFrame(
        {
            "delta": wide.mean(axis=1),
            "se": wide.std(axis=1, ddof=1) / np.sqrt(n_seeds.clip(lower=1)),
            "p_ttest": p_t,
            "p_wilcoxon": p_w,
            "n_seeds": n_seeds.astype(int),
        },
        index=wide.index,
    ).reset_index()
    floor = _noise_floor(wide)
    table = (
        table.merge(floor.reset_index(), on=["model", "slice", "metric", "k"], how="left")
        if len(floor)
        else (table.assign(noise_floor=np.nan))
    )
    table = table.merge(_slice_users(results, slice_values), on=["model", "variant", "slice"], how="left")
    if "n_users" not in table:
        table["n_users"] = np.nan
    table = with_verdicts(table.assign(q_ttest=np.nan, ci_low=np.nan, ci_high=np.nan), alpha=alpha)
    return table[SIGNIFICANCE_COLUMNS].reset_index(drop=True)


def complete(table: pd.DataFrame) -> pd.DataFrame:
    """A significance table with every column of ``SIGNIFICANCE_COLUMNS``, e.g. one saved before some existed.

    Missing columns become NaN; without ``n_seeds`` a row cannot be judged, so its verdict says so.
    """
    out = table.copy()
    for column in SIGNIFICANCE_COLUMNS:
        if column not in out.columns:
            out[column] = np.nan
    if out["verdict"].isna().any():
        out["verdict"] = out["verdict"].fillna(with_verdicts(out)["verdict"]) if len(out) else out["verdict"]
    return out[SIGNIFICANCE_COLUMNS + [c for c in out.columns if c not in SIGNIFICANCE_COLUMNS]]


def significance_table(result: Any, *, alpha: float = ALPHA) -> pd.DataFrame:
    """The significance table of an ``ExperimentResult`` (see :func:`significance_from_results`)."""
    return significance_from_results(result.results, getattr(result, "slice_values", None), alpha=alpha)


def verdict(table: pd.DataFrame) -> pd.Series:
    """The verdict words of a significance table (computed by :func:`with_verdicts`)."""
    if "verdict" in table.columns:
        return table["verdict"]
    return with_verdicts(table)["verdict"] if len(table) else pd.Series(dtype=object)


def verdict_sentence(row: Mapping[str, Any]) -> str:
    """One plain sentence for one significance row, e.g. for the report and the Compare page."""
    label = f"{row['metric']}@{row['k']}" if row.get("k") else str(row["metric"])
    what = f"{row['model']} + {row['variant']} vs baseline, {label} on '{row['slice']}'"
    seeds = "seeds unknown" if pd.isna(row.get("n_seeds")) else f"{int(row['n_seeds'])} seeds"
    users = "" if pd.isna(row.get("n_users")) else f", {int(row['n_users']):,} users"
    delta = f"Δ {row['delta']:+.4f}"
    word = row["verdict"]
    if word in (NO_VERDICT, TOO_FEW_USERS):
        return f"{what}: {delta} ({seeds}{users}) — {word}."
    interval = "" if pd.isna(row["ci_low"]) else f" [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]"
    floor = row.get("noise_floor")
    inside = (
        f"; inside the A/A noise floor (±{floor:.4f})"
        if floor is not None and not pd.isna(floor) and abs(row["delta"]) <= floor
        else ""
    )
    return f"{what}: {delta}{interval} ({seeds}{users}) — {word}{inside}."


def verdict_summary(
    table: pd.DataFrame, *, metrics: tuple[str, ...] = ("ndcg", "recall"), ks: tuple[int, ...] = (10, 20)
) -> str:
    """The headline verdicts as plain text (the CLI prints this): slice ``all``, key accuracy metrics.

    The words are the ``verdict`` column of ``significance.csv``, so the CLI, the file and the report agree.
    """
    rows = table[(table["slice"] == "all") & table["metric"].isin(metrics) & table["k"].isin(ks)]
    rows = pd.concat([rows[rows["variant"] != AA_CONTROL], rows[rows["variant"] == AA_CONTROL]])  # the control last
    if rows.empty:
        return "no significance rows for slice 'all' (nothing to compare)"
    seeds = int(rows["n_seeds"].max())
    lines = [f"verdicts (slice all, {seeds} seed{'s' if seeds != 1 else ''}, Benjamini-Hochberg within the slice):"]
    for _, row in rows.iterrows():
        interval = "" if pd.isna(row["ci_low"]) else f" [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]"
        floor = "" if pd.isna(row["noise_floor"]) else f"  noise ±{row['noise_floor']:.4f}"
        users = "" if pd.isna(row["n_users"]) else f"  n={int(row['n_users']):,}"
        label = f"{row['metric']}@{row['k']}"
        lines.append(
            f"  {row['model']:<14} {row['variant']:<22} {label:<10} Δ {row['delta']:+.4f}{interval}"
            f"{floor}{users}  {row['verdict']}"
        )
    if seeds < MIN_SEEDS:
        lines.append(f"  (fewer than {MIN_SEEDS} seeds: deltas only; run with --seeds 0,1,2 for a verdict)")
    return "\n".join(lines)
