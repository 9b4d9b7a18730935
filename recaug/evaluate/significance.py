"""Is an augmented model's change real? Seed-level inference on a question declared before the run.

The replicate (seed) is the unit of inference. Under a protocol whose seed re-draws the split, each seed re-splits
the data and retrains every model, so the per-seed deltas ``d_s = variant_s - baseline_s`` are independent draws
that carry every source of noise: the split, the model's initialisation and sampling, and the test users. A bootstrap
over test users within one seed misses the first two (baseline and variant share the model seed); on ML-100k it gave
intervals half as wide as the seeds' real spread. ``benchmarks/null_calibration.md`` and ``benchmarks/power.md``
measure the calibration of the rule below.

**One question per (model, arm)** (:mod:`recaug.evaluate.design`): the primary rows (default NDCG@10 and Recall@20
on slice ``all`` and on the arm's target slice) are tested, Benjamini-Hochberg-corrected within that small family
(``scipy.stats.false_discovery_control``), so a primary verdict never changes because other models, arms or metrics
were added. Every other row is **exploratory**: delta and interval, never better/worse.

For every (model, variant, slice, metric, k), against the baseline with the same model, seed and split:

* ``delta``: mean over seeds of ``d_s``; ``se``: ``sd(d_s) / sqrt(n)``;
* ``p_ttest``: one-sample t-test of ``d_s`` against 0; ``p_wilcoxon``: Wilcoxon signed-rank over seeds. Rows whose
  deltas do not vary between seeds are not tests (p is NaN): every delta 0 is ``no change in any seed``, a constant
  non-zero delta ``no verdict: the same delta in every seed``;
* ``q_ttest``: the BH-adjusted p within the row's primary family (NaN for exploratory rows);
* ``ci_low`` / ``ci_high``: the row's own 95% seed-level t-interval (``delta ± t(n-1) * se``); for a deterministic
  model on a fixed split (nothing varies between seeds) an interval over test users instead, labelled so;
* ``noise_floor``: the row's own seed noise, ``sd(d_s)``: how far one replicate of *this* comparison moves the delta.
  It is drawn with the same pairing as the delta (an arm shares the baseline's model seed; an A/A control paired
  that way would be the baseline itself), so it is never a yardstick borrowed from another arm. 0 on a fixed split
  for a deterministic model: no training noise;
* ``primary``, ``replicate`` (what the seeds varied), ``mde`` (the smallest change this row's design detects with
  80% power at its level, :mod:`recaug.evaluate.power`) and ``seeds_to_decide`` (for an undecided primary row: the
  seeds at which a change of this delta's size would be decided);
* ``n_seeds``, ``n_users`` (the fewest users the slice had over seeds) and ``verdict``;
* ``level`` (the level a primary row's q was held to: ``alpha``, or with ``max_seeds`` the deciding or last look's
  share of it) and ``decided_at`` (the seeds at the look that decided a primary row; NaN while undecided).

With ``max_seeds`` the primary rows are judged at each look under alpha spending (:mod:`recaug.evaluate.sequential`);
a row decided at a look keeps that verdict. Everything is a pure function of the results table and the config, so
the table is identical run to run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recaug.evaluate.catalog import METRIC_INFO
from recaug.evaluate.design import (
    AUGMENTATION_DRAW,
    CONSTANT,
    MODEL_SEED,
    NOTHING,
    SPLIT_AND_MODEL,
    TIES_AND_MODEL,
    Question,
)
from recaug.evaluate.power import mde, power_sentence, seeds_to_decide
from recaug.evaluate.sequential import look_levels, open_rows, spending
from recaug.evaluate.signed_rank import signed_rank_p
from recaug.evaluate.slices import SliceValues
from recaug.evaluate.verdicts import (  # noqa: F401  (re-exported: every view reads the words from here)
    AA_CONTROL,
    BASELINE,
    DIRECTIONS,
    EXPLORATORY,
    FIXED_SPLIT,
    MIN_SEEDS,
    MIN_USERS,
    NO_CHANGE,
    NO_DIFFERENCE,
    NO_SPREAD,
    NO_VERDICT,
    TOO_FEW_USERS,
    VERDICTS,
)

ALPHA = 0.05
SKIPPED = "skipped:"  # the verdict of an arm that made no row (its LLM skill check stopped it)
# What the seeds of a row varied, in words, where it is not the whole split (views and the CLI add it to a row).
REPLICATE_NOTES = {
    TIES_AND_MODEL: "the split is fixed except same-time ties: seeds re-draw those, the model's training and any "
    "random augmentation",
    MODEL_SEED: "the split is fixed: seeds vary the model's training and any random augmentation; the verdict is "
    "about this test set",
    AUGMENTATION_DRAW: "the split is fixed and the baseline did not move between seeds: what varied is the "
    "augmentation's draw; the verdict is about this test set",
    NOTHING: "nothing moved between seeds on this row (a fixed split): its exact Δ, with an interval over test users",
}
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
    "primary",
    "replicate",
    "mde",
    "seeds_to_decide",
    "level",
    "decided_at",
]
KEYS = ["model", "variant", "slice", "metric", "k"]
FAMILY = ["model", "variant"]  # one pre-declared question per (model, arm)
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

    NaN with fewer than two seeds, and NaN where the deltas do not vary at all (every delta the same, 0 included):
    with no spread there is no test (a t-statistic of infinity is not evidence). Wilcoxon drops zero deltas.
    """
    from scipy import stats

    deltas = np.atleast_2d(np.asarray(deltas, dtype=np.float64))
    present = [row[~np.isnan(row)] for row in deltas]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_t = _by_length(lambda m: stats.ttest_1samp(m, 0.0, axis=1).pvalue, present, 2)
        p_w = _by_length(signed_rank_p, [row[row != 0] for row in present], 1)
    counts = np.array([len(row) for row in present], dtype=int)
    # Round-off is no spread: a delta of -1/102 in every seed differs by ~1e-18 between seeds (walk 13 saw p = 2e-31).
    constant = np.array([len(row) > 0 and np.ptp(row) <= CONSTANT for row in present])
    p_t[(counts < 2) | constant] = np.nan
    p_w[(counts < 2) | constant] = np.nan
    return p_t, p_w


def _seed_deltas(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, variant, slice, metric, k, seed) with the paired delta to the baseline."""
    base = results[results["variant"] == BASELINE].drop(columns="variant").rename(columns={"value": "baseline"})
    base = base[["model", "seed", "slice", "metric", "k", "baseline"]]
    other = results[results["variant"] != BASELINE]
    merged = other.merge(base, on=["model", "seed", "slice", "metric", "k"], how="inner")
    return merged.assign(delta=merged["value"] - merged["baseline"])


def _what_moved(deltas: pd.DataFrame, table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(baseline moved, delta moved) between seeds, bool per row of ``table``: what the seeds really varied."""

    def moved(column: str) -> pd.Series:
        spread = deltas.groupby(KEYS, sort=False)[column].agg(lambda v: float(np.ptp(v)) if len(v) else 0.0)
        keys = pd.MultiIndex.from_frame(table[KEYS])
        return pd.Series(spread.reindex(keys).fillna(0.0).to_numpy() > CONSTANT, index=table.index)

    return moved("baseline"), moved("delta")


def benjamini_hochberg(p_values: pd.Series) -> pd.Series:
    """BH-adjusted p-values (q-values, ``scipy.stats.false_discovery_control``); NaN p-values stay NaN and do not
    count as tests."""
    from scipy.stats import false_discovery_control

    q = pd.Series(np.nan, index=p_values.index)
    valid = p_values.dropna()
    if not valid.empty:
        q.loc[valid.index] = false_discovery_control(valid.to_numpy(dtype=np.float64), method="bh")
    return q


def _family_bh(p_values: pd.Series, keys: list[pd.Series]) -> pd.Series:
    """BH q-values within each family (rows sharing ``keys``): one ``false_discovery_control`` call per family size,
    over a (families x size) matrix, since runs and benchmarks judge thousands of small families at once."""
    from scipy.stats import false_discovery_control

    q = pd.Series(np.nan, index=p_values.index)
    valid = p_values.notna().to_numpy()
    if not valid.any():
        return q
    family = pd.Series(pd.MultiIndex.from_arrays([k.to_numpy() for k in keys]).factorize()[0])[valid]
    p = p_values.to_numpy(dtype=np.float64)[valid]
    where = np.flatnonzero(valid)
    order = np.argsort(family.to_numpy(), kind="stable")
    sizes = family.value_counts().reindex(family.to_numpy()[order]).to_numpy()
    for size in np.unique(sizes):
        chosen = order[sizes == size]
        matrix = p[chosen].reshape(-1, size)
        q.iloc[where[chosen]] = false_discovery_control(matrix, axis=1, method="bh").reshape(-1)
    return q


def _direction_word(metric: str, up: bool) -> str:
    direction = METRIC_INFO[metric].higher_is_better if metric in METRIC_INFO else None
    if direction is None:
        return "higher" if up else "lower"
    return "better" if up == direction else "worse"


def _flag(column: pd.Series) -> pd.Series:
    """A bool column read back from CSV (True/False/"True"/NaN -> bool; NaN is False)."""
    return column.map(lambda v: str(v).strip().lower() in ("true", "1", "1.0")).astype(bool)


def with_verdicts(
    table: pd.DataFrame, *, alpha: float = ALPHA, level: float | None = None, decide_level: float | None = None
) -> pd.DataFrame:
    """(Re)compute ``q_ttest``, the interval, ``verdict``, ``mde`` and ``seeds_to_decide`` for one look.

    Needs ``delta``, ``se``, ``p_ttest``, ``n_seeds`` and ``n_users``; ``primary`` (default: every row) and
    ``replicate`` (default: the split and the model seed vary). Primary rows are tested at ``level`` (default
    ``alpha``), BH within each (model, variant) family; intervals are 95% (``alpha``) per row. ``decide_level``
    (default ``level``) is the level the seeds-to-decide estimate assumes. The verdicts of a row depend only on its
    own family, never on the other rows of ``table``.
    """
    from scipy import stats

    out = table.copy()
    if out.empty:
        return out.assign(verdict=pd.Series(dtype=object))
    level = alpha if level is None else level
    decide_level = level if decide_level is None else decide_level
    primary = _flag(out["primary"]) if "primary" in out else pd.Series(True, index=out.index)
    replicate = out["replicate"] if "replicate" in out else pd.Series(SPLIT_AND_MODEL, index=out.index)
    fixed = replicate.eq(NOTHING)
    n_seeds = out["n_seeds"].fillna(0).astype(int)
    few_users = out["n_users"].notna() & (out["n_users"] < MIN_USERS)
    spread = out["se"].fillna(0) > CONSTANT  # round-off (a se of 1e-18) is no spread either
    testable = (n_seeds >= MIN_SEEDS) & ~few_users & out["p_ttest"].notna() & spread & ~fixed
    tested = testable & primary
    keys = [out[c] for c in FAMILY]
    out["q_ttest"] = _family_bh(out["p_ttest"].where(tested), keys)
    family_size = tested.groupby(keys, sort=False).transform("sum").clip(lower=1)
    df = (n_seeds - 1).clip(lower=1)
    half = stats.t.ppf(1 - alpha / 2, df) * out["se"]
    shown = (n_seeds >= 2) & ~few_users & ~fixed
    out["ci_low"] = (out["delta"] - half).where(shown, out.get("ci_low", np.nan))
    out["ci_high"] = (out["delta"] + half).where(shown, out.get("ci_high", np.nan))
    out.loc[few_users, ["ci_low", "ci_high"]] = np.nan
    chosen = tested & (out["q_ttest"] <= level)
    words = [
        _direction_word(metric, delta > 0) if pick else (NO_DIFFERENCE if is_primary else EXPLORATORY)
        for metric, delta, pick, is_primary in zip(out["metric"], out["delta"], chosen, primary, strict=True)
    ]
    verdicts = pd.Series(words, index=out.index, dtype=object)
    constant = (n_seeds >= 2) & ~spread
    verdicts[constant & out["delta"].fillna(0).eq(0)] = NO_CHANGE
    verdicts[constant & out["delta"].fillna(0).ne(0)] = NO_SPREAD
    verdicts[(n_seeds < MIN_SEEDS) & ~constant] = NO_VERDICT
    verdicts[fixed] = FIXED_SPLIT
    verdicts[few_users] = TOO_FEW_USERS
    out["verdict"] = verdicts
    out["primary"] = primary
    out["replicate"] = replicate
    sd = out["se"] * np.sqrt(n_seeds.clip(lower=1))
    row_level = np.where(primary, level / family_size, alpha)
    # The smallest change a verdict could find: none below MIN_SEEDS, where no verdict is given at all.
    detects = ~fixed & ~few_users & spread & (n_seeds >= MIN_SEEDS)
    out["mde"] = pd.Series(mde(sd, n_seeds, row_level), index=out.index).where(detects)
    undecided = primary & verdicts.eq(NO_DIFFERENCE)
    needed = seeds_to_decide(out["delta"], sd, np.asarray(decide_level / family_size, dtype=np.float64))
    out["seeds_to_decide"] = pd.Series(needed, index=out.index).where(undecided)
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


def _user_interval(
    key: tuple[Any, ...], seeds: list[int], slice_values: SliceStore, alpha: float
) -> tuple[float, float]:
    """A t-interval over test users of the per-user delta (averaged over seeds) for one row: the only replicate a
    deterministic model on a fixed split has. NaN when the per-user values are not at hand."""
    from scipy import stats

    model, variant, slice_name, metric, k = key
    per_user: list[pd.Series] = []
    for seed in seeds:
        arm = slice_values.get((model, variant, seed), {}).get(slice_name)
        base = slice_values.get((model, BASELINE, seed), {}).get(slice_name)
        if arm is None or base is None or (metric, k) not in arm.values or (metric, k) not in base.values:
            return np.nan, np.nan
        after = pd.Series(arm.values[(metric, k)], index=arm.users)
        diff = after - pd.Series(base.values[(metric, k)], index=base.users)
        per_user.append(diff.dropna())
    users = pd.concat(per_user, axis=1).mean(axis=1).dropna().to_numpy() if per_user else np.array([])
    if len(users) < 2:
        return np.nan, np.nan
    half = stats.t.ppf(1 - alpha / 2, len(users) - 1) * users.std(ddof=1) / np.sqrt(len(users))
    return float(users.mean() - half), float(users.mean() + half)


def _stats(wide: pd.DataFrame) -> pd.DataFrame:
    """delta, se, p-values and seed count per row of a (rows x seeds) delta table."""
    p_t, p_w = seed_tests(wide.to_numpy())
    n_seeds = wide.notna().sum(axis=1)
    return pd.DataFrame(
        {
            "delta": wide.mean(axis=1),
            "se": wide.std(axis=1, ddof=1) / np.sqrt(n_seeds.clip(lower=1)),
            "p_ttest": p_t,
            "p_wilcoxon": p_w,
            "n_seeds": n_seeds.astype(int),
        },
        index=wide.index,
    )


def significance_from_results(
    results: pd.DataFrame,
    slice_values: SliceStore | None = None,
    *,
    alpha: float = ALPHA,
    question: Question | None = None,
) -> pd.DataFrame:
    """The significance table (columns ``SIGNIFICANCE_COLUMNS``) from a tidy results table.

    ``question``: the run's declared question (:meth:`Question.from_config`); default: NDCG@10 and Recall@20 on
    slice ``all``, a split that changes with the seed, fixed seeds. ``slice_values`` (per-user values of an
    in-memory run) supply ``n_users`` for tables written before that column, and the test-user intervals of
    deterministic models on a fixed split.
    """
    question = question or Question()
    deltas = _seed_deltas(results)
    if deltas.empty:
        return pd.DataFrame(columns=SIGNIFICANCE_COLUMNS)
    wide = deltas.groupby([*KEYS, "seed"], sort=False)["delta"].mean().unstack("seed")  # NaN: seed missing
    wide = wide.reindex(pd.MultiIndex.from_frame(deltas[KEYS].drop_duplicates()))  # keep the results' order
    wide = wide[question.ordered_seeds(wide.columns)]  # the order the seeds ran in: looks take the first n
    table = _stats(wide).reset_index()
    table = table.merge(_slice_users(results, slice_values), on=["model", "variant", "slice"], how="left")
    if "n_users" not in table:
        table["n_users"] = np.nan
    table["primary"] = question.is_primary(table).to_numpy()
    table["replicate"] = question.replicate(*_what_moved(deltas, table)).to_numpy()
    table["noise_floor"] = (table["se"] * np.sqrt(table["n_seeds"].clip(lower=1))).where(table["n_seeds"] >= 2)
    table = table.assign(q_ttest=np.nan, ci_low=np.nan, ci_high=np.nan)
    fixed = table.index[table["replicate"].eq(NOTHING)]
    if slice_values and len(fixed):
        seeds = [int(s) for s in wide.columns]
        for i in fixed:
            key = tuple(table.loc[i, KEYS])
            table.loc[i, ["ci_low", "ci_high"]] = _user_interval(key, seeds, slice_values, alpha)
    table = _judge(table, wide, question, alpha)
    return table[SIGNIFICANCE_COLUMNS].reset_index(drop=True)


def _judge(table: pd.DataFrame, wide: pd.DataFrame, question: Question, alpha: float) -> pd.DataFrame:
    """Verdicts at the last look, keeping any primary row decided at an earlier look (see the sequential rule)."""
    n_present = wide.shape[1]
    looks, levels = look_levels(question.looks, n_present, alpha)
    plan = spending(question.looks, alpha) if len(question.looks) > 1 else np.array([alpha])

    def decide_level(j: int) -> float:
        """The level look ``j``'s seeds-to-decide assumes: what it and any later looks may spend."""
        return max(alpha - float(levels[:j].sum()), float(plan[-1]))

    final = with_verdicts(table, alpha=alpha, level=float(levels[-1]), decide_level=decide_level(len(looks) - 1))
    earlier: dict[int, str] = {}
    earlier_at: dict[int, tuple[float, float]] = {}  # row -> (level, seeds) of the look that settled it
    primary_rows = table.index[table["primary"]]
    stopped: set[tuple[Any, ...]] = set()  # (model, variant) questions that stopped at an earlier look
    for j, (n, level) in enumerate(zip(looks[:-1], levels[:-1], strict=True)):
        part = _stats(wide.iloc[primary_rows, :n]).reset_index(drop=True)
        part.index = primary_rows
        look = table.loc[primary_rows].assign(**{c: part[c] for c in part.columns})
        judged = with_verdicts(look, alpha=alpha, level=float(level), decide_level=decide_level(j))
        family = pd.Series(list(zip(*(judged[c] for c in FAMILY), strict=True)), index=judged.index)
        judged = judged[~family.isin(stopped)]
        for i, word in judged["verdict"].items():
            if word in DIRECTIONS and i not in earlier:
                earlier[i] = word
                earlier_at[i] = (float(level), float(n))
        # A question with no open row stops here: its undecided rows keep this look's verdict from now on, so
        # seeds added for other questions never change its answer.
        still = judged.assign(verdict=[earlier.get(i, w) for i, w in judged["verdict"].items()])
        still = still[still["variant"] != AA_CONTROL]
        open_ = open_rows(still, question.looks[-1]).groupby(family[still.index], sort=False).any()
        for key in open_.index[~open_.to_numpy()]:
            stopped.add(key)
            for i in still.index:
                if family[i] == key and i not in earlier:
                    earlier[i] = str(judged.loc[i, "verdict"])
                    earlier_at[i] = (float(level), float(n))
    # What a reader needs to see a verdict as it was reached: the level the row's q was held to, and the seeds at
    # the look that decided it (a row decided at 3 seeds keeps its verdict while Δ and q are shown at 7).
    tested = final["primary"] & final["q_ttest"].notna()
    final["level"] = np.where(tested, float(levels[-1]), np.nan)
    final["decided_at"] = np.where(tested & final["verdict"].isin(DIRECTIONS), float(n_present), np.nan)
    for i, word in earlier.items():
        final.loc[i, "verdict"] = word
        final.loc[i, "seeds_to_decide"] = np.nan
        final.loc[i, ["level", "decided_at"]] = earlier_at[i]
    return final


def complete(table: pd.DataFrame) -> pd.DataFrame:
    """A significance table with every column of ``SIGNIFICANCE_COLUMNS``, e.g. one saved before some existed.

    Missing columns become NaN (``primary``: False, ``replicate``: the split and model seed varied, as every run did
    before issue 17); a missing verdict is computed; saved verdicts are kept as they were written.
    """
    out = table.copy()
    defaults: dict[str, Any] = {"primary": False, "replicate": SPLIT_AND_MODEL}
    for column in SIGNIFICANCE_COLUMNS:
        if column not in out.columns:
            out[column] = defaults.get(column, np.nan)
    out["primary"] = _flag(out["primary"])
    if len(out) and out["verdict"].isna().any():
        out["verdict"] = out["verdict"].fillna(with_verdicts(out)["verdict"])
    return out[SIGNIFICANCE_COLUMNS + [c for c in out.columns if c not in SIGNIFICANCE_COLUMNS]]


def significance_table(result: Any, *, alpha: float = ALPHA) -> pd.DataFrame:
    """The significance table of an ``ExperimentResult`` under its config's declared question."""
    from recaug.augment.llm.llm_common import skipped_variants

    config = getattr(result, "config", None)
    question = Question.from_config(config) if config is not None else None
    table = significance_from_results(
        result.results, getattr(result, "slice_values", None), alpha=alpha, question=question
    )
    # An arm its skill check stopped made no row: its rows compare the baseline with itself, so they say why.
    skipped = skipped_variants(getattr(result, "augment_info", None) or [])
    if skipped and len(table):
        rows = table["variant"].isin(list(skipped))
        table.loc[rows, "verdict"] = table.loc[rows, "variant"].map(skipped)
    return table


def skipped_arms(table: pd.DataFrame | None) -> dict[str, str]:
    """``{variant: line}`` for the arms that made no row (every row's verdict is ``skipped: ...``), each line saying
    so once, e.g. "llm-cold-items: no rows — the LLM failed its skill check; nothing to compare". Their rows compare
    the baseline with itself: views show this line instead of one per model, metric and slice (walk 13 found 1,428
    of a report's 2,616 table rows saying it). significance.csv keeps the rows."""
    if table is None or table.empty or "verdict" not in table.columns:
        return {}
    words = table["verdict"].astype(str)
    skipped = words.str.startswith(SKIPPED).groupby(table["variant"], sort=False).all()
    out = {}
    for variant in skipped.index[skipped.to_numpy()]:
        word = words[table["variant"] == variant].iloc[0]
        why = word.removeprefix(SKIPPED).strip().split(", so it made")[0].replace("the skill check", "its skill check")
        out[str(variant)] = f"{variant}: no rows — {why}; nothing to compare"
    return out


def without_skipped(table: pd.DataFrame, skipped: Iterable[str] | None = None) -> pd.DataFrame:
    """``table`` less the rows of the arms that made no row: ``skipped`` (names; any frame with ``variant``, e.g.
    results), or by default those of :func:`skipped_arms` of ``table`` (a significance table)."""
    names = list(skipped_arms(table) if skipped is None else skipped)
    return table[~table["variant"].isin(names)] if names else table


def primary_first(table: pd.DataFrame) -> pd.DataFrame:
    """The rows with the primary family first (in their order), then the rest; a stable reordering."""
    if "primary" not in table.columns:
        return table
    flag = _flag(table["primary"])
    return pd.concat([table[flag], table[~flag]])


def verdict(table: pd.DataFrame) -> pd.Series:
    """The verdict words of a significance table (computed by :func:`with_verdicts`)."""
    if "verdict" in table.columns:
        return table["verdict"]
    return with_verdicts(table)["verdict"] if len(table) else pd.Series(dtype=object)


def metric_label(metric: str, k: Any) -> str:
    """``NDCG@10``: the metric's own label and k, for sentences."""
    name = METRIC_INFO[metric].label if metric in METRIC_INFO else str(metric)
    return f"{name}@{int(k)}" if pd.notna(k) and k else name


def row_power_sentence(row: Mapping[str, Any]) -> str:
    """The power of one row in words (empty when it has none, e.g. fewer than 2 seeds)."""
    n = row.get("n_seeds")
    if n is None or pd.isna(n) or pd.isna(row.get("mde", np.nan)):
        return ""
    needed = row.get("seeds_to_decide")
    return power_sentence(float(row["mde"]), int(n), metric_label(str(row["metric"]), row.get("k")), needed)


def _number(value: Any) -> float:
    """A table cell as a float (NaN when missing), for comparisons."""
    return float("nan") if value is None or pd.isna(value) else float(value)


def delta_text(delta: float) -> str:
    """A signed Δ to 4 decimals, or to 3 significant digits where 4 decimals would show a non-zero Δ as +0.0000
    (a pop row's +3e-05 next to "about 9 seeds would decide this Δ" read as a contradiction)."""
    if pd.isna(delta):
        return "–"
    return f"{delta:+.3g}" if 0 < abs(delta) < 5e-5 else f"{delta:+.4f}"


def q_text(q: float, level: float = ALPHA) -> str:
    """``q`` to 3 significant digits, or more where 3 would round it onto its level (0.050044 is not "0.05")."""
    for digits in range(3, 8):
        text = f"{q:.{digits}g}"
        if (float(text) <= level) == (q <= level) and float(text) != level:
            return text
    return f"{q:.8g}"


def verdict_words(row: Mapping[str, Any]) -> str:
    """The verdict as people read it (Compare, the CLI summary, the report): a verdict reached at an earlier look
    than the numbers shown says so, and a greyed primary row whose own interval excludes 0 says what held it (the
    family's correction, or the look's share of alpha): users read it as a contradiction."""
    word = row["verdict"]
    low, high, q, level, decided_at, seeds = (
        _number(row.get(c)) for c in ("ci_low", "ci_high", "q_ttest", "level", "decided_at", "n_seeds")
    )
    settled_earlier = pd.notna(decided_at) and pd.notna(seeds) and decided_at < seeds
    if word in DIRECTIONS and settled_earlier:
        # Seeds added until decided: a verdict reached at an earlier look stands; Δ, interval and q are the last's.
        return f"{word} (decided at {decided_at:.0f} seeds; Δ, interval and q shown at {seeds:.0f})"
    if settled_earlier:
        # Its question stopped at that look while seeds were added for other questions: its answer stays.
        return (
            f"{word} (its question stopped at {decided_at:.0f} seeds, as nothing undecided could be decided within "
            f"the seed limit; Δ, interval and q shown at {seeds:.0f})"
        )
    lone = pd.notna(low) and pd.notna(high) and (low > 0 or high < 0)
    if word == NO_DIFFERENCE and bool(row.get("primary")) and lone and pd.notna(q):
        if pd.notna(level) and level < ALPHA and q <= ALPHA:  # the look's share of alpha, not the family, held it
            share = "the looks of a run that adds seeds share 5%"
            return f"{word} (q {q_text(q, level)} is above this look's level {level:.3g}: {share})"
        threshold = level if pd.notna(level) else ALPHA
        return f"{word} (q {q_text(q, threshold)} after correcting for the family; the interval is this row's alone)"
    return word


def verdict_sentence(row: Mapping[str, Any]) -> str:
    """One plain sentence for one significance row, e.g. for the report and the Compare page."""
    label = f"{row['metric']}@{row['k']}" if row.get("k") else str(row["metric"])
    what = f"{row['model']} + {row['variant']} vs baseline, {label} on '{row['slice']}'"
    seeds = "seeds unknown" if pd.isna(row.get("n_seeds")) else f"{int(row['n_seeds'])} seeds"
    users = "" if pd.isna(row.get("n_users")) else f", {int(row['n_users']):,} users"
    delta = f"Δ {delta_text(row['delta'])}"
    word = row["verdict"]
    role = "primary" if bool(row.get("primary", False)) is True else "exploratory"
    if word in (NO_VERDICT, TOO_FEW_USERS, NO_CHANGE, NO_SPREAD) or str(word).startswith(SKIPPED):
        return f"{what} ({role}): {delta} ({seeds}{users}) — {word}."
    if row.get("replicate") == NOTHING:
        interval = (
            "" if pd.isna(row.get("ci_low")) else f", test-user interval [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]"
        )
        return f"{what} ({role}): exact {delta}{interval} ({seeds}{users}) — {word}; {REPLICATE_NOTES[NOTHING]}."
    interval = "" if pd.isna(row.get("ci_low")) else f" [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]"
    note = f" ({REPLICATE_NOTES[row['replicate']]})" if row.get("replicate") in REPLICATE_NOTES else ""
    power = row_power_sentence(row)
    return f"{what} ({role}): {delta}{interval} ({seeds}{users}{note}) — {verdict_words(row)}" + (
        f"; {power}." if power else "."
    )


def verdict_summary(table: pd.DataFrame, *, stopping: str = "", protocol: str = "") -> str:
    """The primary question's verdicts as plain text (the CLI prints this), then the exploratory headline rows.

    The words are the ``verdict`` column of ``significance.csv``, so the CLI, the file and the report agree.
    ``protocol`` (the split's name) heads it, since every number is read with its protocol, seeds and users.
    """
    table = complete(table)
    skipped = skipped_arms(table)  # one line each, not one per row
    table = without_skipped(table, skipped)
    primary = table[table["primary"] & (table["variant"] != AA_CONTROL)]
    control = table[table["primary"] & (table["variant"] == AA_CONTROL)]
    if primary.empty and control.empty:
        return "\n".join(["no primary rows (nothing to compare)", *(f"  {line}" for line in skipped.values())])
    seeds = int(table["n_seeds"].max()) if table["n_seeds"].notna().any() else 0
    split = f"{protocol} split, " if protocol else ""
    lines = [
        f"primary question ({split}{seeds} seed{'s' if seeds != 1 else ''}; per model and arm, Benjamini-Hochberg "
        "over its primary rows only; every other row in significance.csv is exploratory):"
    ]
    said = ""  # what the seeds varied is said once per run of rows that share it
    for _, row in pd.concat([primary, control]).iterrows():
        varied = REPLICATE_NOTES.get(str(row.get("replicate")), "")
        if varied and varied != said:
            lines.append(f"  ({varied})")
        said = varied
        lines.append("  " + _summary_line(row))
        power = row_power_sentence(row)
        if power:
            lines.append(f"  {'':<14} {power}")
    lines.extend(f"  {line}" for line in skipped.values())
    if stopping:
        lines.append(f"  seeds: {stopping}")
    if seeds < MIN_SEEDS:
        lines.append(f"  (fewer than {MIN_SEEDS} seeds: deltas only; run with --seeds 0,1,2 for a verdict)")
    return "\n".join(lines)


def _summary_line(row: pd.Series) -> str:
    interval = "" if pd.isna(row["ci_low"]) else f" [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]"
    if interval and row.get("replicate") == NOTHING:
        interval = f" test-user interval{interval}"
    users = "" if pd.isna(row["n_users"]) else f"  n={int(row['n_users']):,}"
    label = f"{row['metric']}@{row['k']}"
    return (
        f"{row['model']:<14} {row['variant']:<22} {row['slice']:<12} {label:<10} Δ {delta_text(row['delta'])}{interval}"
        f"{users}  {verdict_words(row)}"
    )


FRAGILE_NDCG = 0.01  # a baseline NDCG@10 below this barely ranks anything (a Book-Crossing fragment had 0.0019)


def weak_baseline_warning(results: pd.DataFrame, threshold: float = FRAGILE_NDCG) -> str:
    """A warning when some model's baseline NDCG@10 on slice ``all`` (mean over seeds) is below ``threshold``:
    deltas of a model that barely works are tiny in absolute terms and move with a handful of hits, so every
    verdict about it is fragile. Empty when every baseline clears it (or NDCG@10 was not computed)."""
    rows = results[
        (results["variant"] == BASELINE)
        & (results["slice"] == "all")
        & (results["metric"] == "ndcg")
        & (results["k"] == 10)
    ]
    means = rows.groupby("model", sort=False)["value"].mean()
    weak = means[means < threshold]
    if weak.empty:
        return ""
    listed = ", ".join(f"{model} {value:.4f}" for model, value in weak.items())
    return (
        f"The baseline barely works on this data (NDCG@10 {listed}, under {threshold}): a few hits move every "
        "delta, so any verdict about these models is fragile. Check the data (k-core, rating threshold, split) "
        "before trusting it."
    )


@dataclass(frozen=True)
class AAControlSummary:
    """What the A/A control (the baseline refitted with fresh seeds) says on one slice.

    ``slice``: where its primary rows were judged (slice ``all`` when the asked slice has none: the control's
    question is declared on ``all`` only). ``constant_models``: models whose every A/A row there is ``no change in
    any seed``: deterministic fits (pop, itemknn) refit identically, so their rows test nothing. ``rows`` and
    ``different``: the primary rows of the other models (``noisy_models``) and how many were judged better/worse,
    which a calibrated test keeps near 0.
    """

    slice: str
    rows: int
    different: int
    constant_models: tuple[str, ...]
    noisy_models: tuple[str, ...]


def aa_control_summary(table: pd.DataFrame | None, slice_name: str) -> AAControlSummary | None:
    """The A/A control's outcome on ``slice_name`` (see :class:`AAControlSummary`); None when the run has no A/A
    rows. Reads the verdicts as written; changes none."""
    if table is None or table.empty:
        return None
    control = complete(table)
    control = control[control["variant"] == AA_CONTROL]
    primary = control[control["primary"]]
    if control.empty or primary.empty:
        return None
    judged = slice_name if (primary["slice"] == slice_name).any() else str(primary["slice"].iloc[0])
    rows = control[control["slice"] == judged]
    constant = rows.groupby("model", sort=False)["verdict"].agg(lambda words: bool((words == NO_CHANGE).all()))
    noisy = tuple(str(m) for m in constant.index[~constant.to_numpy()])
    tested = primary[(primary["slice"] == judged) & primary["model"].isin(noisy)]
    return AAControlSummary(
        slice=judged,
        rows=len(tested),
        different=int(tested["verdict"].isin(DIRECTIONS).sum()),
        constant_models=tuple(str(m) for m in constant.index[constant.to_numpy()]),
        noisy_models=noisy,
    )
