"""The question a comparison declares before it runs, and what its replicates vary (issue 17).

* **Primary family.** Per model and arm: the ``primary`` metric@k rows (default NDCG@10 and Recall@20) on slice
  ``all`` and on the arm's target slice (``light-users`` -> ``activity-q1``, ``cold-items`` -> ``cold-items``; the
  ``cold-users`` / ``cold-items`` protocols add their own slice). Multiple-testing correction covers that family
  only, so a primary verdict cannot change when other models, arms or metrics are added to the run: each (model,
  arm) pair is its own pre-declared question. Every other row is exploratory.
* **Replicates.** A seed re-draws the split only where the protocol says so
  (:func:`recaug.data.splits.seed_changes_split`; ``leave-last-out`` re-draws only same-time ties). On a fixed split
  what a seed varies is read from the results, not assumed from flags: the model's training where the baseline
  itself moves between seeds, else the augmentation's own draw where only the arm moves (a deterministic model
  trained on ``random``'s rows), else nothing, and a row where nothing moved has no replicate at all (its exact
  delta gets an interval over test users instead). A seed-level verdict on a fixed split is about this test set.
* **Looks.** With ``max_seeds`` above the starting seeds, seeds are added in batches and the primary rows are
  tested at each look under an alpha-spending rule (:mod:`recaug.evaluate.sequential`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.evaluate.verdicts import BASELINE

DEFAULT_PRIMARY = ("ndcg@10", "recall@20")
ALL_USERS = "all"
TARGET_SLICES = {"light-users": "activity-q1", "cold-items": "cold-items"}  # augmenter target -> slice
PROTOCOL_SLICES = {"cold-users": "cold-users", "cold-items": "cold-items"}
SEED_BATCH = 2  # seeds added per look when seeds are added until the question is decided

# What a row's replicates vary (the ``replicate`` column of significance.csv).
SPLIT_AND_MODEL = "split and model seed"
TIES_AND_MODEL = "same-time ties in the split, and model seed"
# On a fixed split these are observations of what moved between seeds, not claims about the model: a seeded model
# whose values on a small slice never move reads "nothing moved".
MODEL_SEED = "model seed (fixed split)"
AUGMENTATION_DRAW = "augmentation draw (fixed split; the baseline did not move between seeds)"
NOTHING = "nothing moved between seeds (fixed split)"
CONSTANT = 1e-12  # per-seed values closer than this did not move (deterministic fits give the same bytes)


def parse_primary(items: Iterable[str] | str) -> tuple[tuple[str, int], ...]:
    """``"ndcg@10,recall@20"`` (or a list of such) -> ``(("ndcg", 10), ("recall", 20))``; RecaugInputError if bad."""
    from recaug.evaluate.catalog import check_metrics

    parts = [p.strip() for p in (items.split(",") if isinstance(items, str) else items) if str(p).strip()]
    if not parts:
        raise RecaugInputError("the primary question needs at least one metric@k", fix="e.g. --primary ndcg@10")
    out = []
    for part in parts:
        metric, sep, k = str(part).lower().partition("@")
        if not sep or not k.isdigit() or int(k) < 1:
            raise RecaugInputError(
                f"cannot read the primary row '{part}'", fix="write metric@k, e.g. ndcg@10,recall@20"
            )
        check_metrics([metric])
        out.append((metric, int(k)))
    return tuple(dict.fromkeys(out))


def check_primary(primary: Iterable[str] | str, metrics: Iterable[str], ks: Iterable[int]) -> None:
    """RecaugInputError unless every primary metric@k is one the run computes (so the question has rows)."""
    metrics, ks = list(metrics), [int(k) for k in ks]
    missing = [f"{m}@{k}" for m, k in parse_primary(primary) if m not in metrics or k not in ks]
    if missing:
        raise RecaugInputError(
            f"the primary question asks for {', '.join(missing)}, which this run does not compute "
            f"(metrics {', '.join(metrics)}; k {', '.join(map(str, ks))})",
            fix="choose primary rows among the run's metrics and k values, or add them to the run",
        )


def resolve_primary(primary: Iterable[str] | str, metrics: Iterable[str], ks: Iterable[int]) -> list[str]:
    """The primary rows a run declares: ``primary`` itself, checked by :func:`check_primary`; the *default* question
    narrowed to the rows the run computes (a run with k 10 only asks ndcg@10), refused only when none is left.

    The narrowed list is what config.json records, so the declared question is always the one that was answered.
    """
    asked = [f"{m}@{k}" for m, k in parse_primary(primary)]
    if asked == list(DEFAULT_PRIMARY):
        metrics, ks = list(metrics), [int(k) for k in ks]
        computed = [f"{m}@{k}" for m, k in parse_primary(asked) if m in metrics and k in ks]
        if computed:
            return computed
    check_primary(asked, metrics, ks)
    return asked


def seed_plan(start: int, max_seeds: int, batch: int = SEED_BATCH) -> tuple[int, ...]:
    """Seed counts at which the primary rows are looked at: ``start``, then ``batch`` more each time, up to
    ``max_seeds`` (one look at ``start`` when ``max_seeds`` is not above it)."""
    looks = [start]
    while max_seeds > looks[-1]:
        looks.append(min(looks[-1] + batch, max_seeds))
    return tuple(looks)


@dataclass(frozen=True)
class Question:
    """The primary question and replicate design of one comparison (see the module docstring)."""

    primary: tuple[tuple[str, int], ...] = tuple(parse_primary(DEFAULT_PRIMARY))
    target_slices: tuple[tuple[str, tuple[str, ...]], ...] = ()  # variant -> its target slices besides "all"
    split_varies: bool = True
    ties_vary: bool = False  # the seed re-draws same-time ties only (leave-last-out)
    looks: tuple[int, ...] = ()  # empty: one look at however many seeds ran
    seed_order: tuple[int, ...] = ()  # the order seeds were run in (looks take the first n); empty: ascending

    @classmethod
    def from_config(cls, config: Any) -> Question:
        """The question an ``ExperimentConfig`` declares (primary rows, targets, protocol, models, seed plan)."""
        from recaug.core.variants import Variant
        from recaug.data.splits import seed_changes_split, seed_redraws_ties

        extra = PROTOCOL_SLICES.get(config.protocol)
        targets = []
        for name in [*config.augmenters]:
            params = {**config.augmenter_params.get(Variant.parse(name).method, {})}
            params.update(config.augmenter_params.get(name, {}))
            slices = [s for s in (target_slice(params.get("target", config.target), name), extra) if s]
            targets.append((name, tuple(dict.fromkeys(slices))))
        start = len(config.seeds)
        seeds_run = list(getattr(config, "seeds_run", []) or [])
        return cls(
            primary=parse_primary(config.primary or DEFAULT_PRIMARY),
            target_slices=tuple(targets),
            split_varies=seed_changes_split(config.protocol),
            ties_vary=seed_redraws_ties(config.protocol),
            looks=seed_plan(start, int(config.max_seeds or 0)),
            seed_order=tuple(seeds_run or config.seeds),
        )

    def slices_of(self, variant: str) -> tuple[str, ...]:
        """The slices of ``variant``'s primary rows: ``all`` and its target slices (the A/A control: ``all``)."""
        return (ALL_USERS, *dict(self.target_slices).get(variant, ()))

    def is_primary(self, table: pd.DataFrame) -> pd.Series:
        """Bool per row of a significance table: is it in its (model, arm) primary family?"""
        keys = set(self.primary)
        wanted = pd.Series([(m, int(k)) in keys for m, k in zip(table["metric"], table["k"], strict=True)])
        wanted.index = table.index
        in_slice = pd.Series(
            [s in self.slices_of(v) for v, s in zip(table["variant"], table["slice"], strict=True)], index=table.index
        )
        return wanted & in_slice

    def is_primary_cell(self, row: Mapping[str, Any]) -> bool:
        """Whether one tidy result row (model, variant, seed, slice, metric, k, ...) feeds a primary row; baseline
        rows feed every arm's, so they count for every slice any arm declares."""
        if (row["metric"], int(row["k"])) not in self.primary:
            return False
        if row["variant"] == BASELINE:
            return row["slice"] == ALL_USERS or any(row["slice"] in s for _, s in self.target_slices)
        return row["slice"] in self.slices_of(str(row["variant"]))

    def replicate(self, baseline_moves: pd.Series, delta_moves: pd.Series) -> pd.Series:
        """What each row's replicates vary, from what moved between its seeds: ``baseline_moves`` (the baseline's
        value differs between seeds) and ``delta_moves`` (the per-seed deltas differ), both bool per row.

        Read from the results rather than from each model's ``deterministic`` flag, because a flag cannot see a
        seeded augmentation feeding a deterministic model, nor a seeded model whose fit happens not to move."""
        if self.split_varies:
            return pd.Series(SPLIT_AND_MODEL, index=baseline_moves.index, dtype=object)
        moved = baseline_moves | delta_moves
        if self.ties_vary:
            return pd.Series(np.where(moved, TIES_AND_MODEL, NOTHING), index=moved.index, dtype=object)
        kinds = np.where(baseline_moves, MODEL_SEED, np.where(delta_moves, AUGMENTATION_DRAW, NOTHING))
        return pd.Series(kinds, index=moved.index, dtype=object)

    def ordered_seeds(self, seeds: Iterable[int]) -> list[int]:
        """The seeds in the order they ran: ``seed_order`` first, any others ascending."""
        present = list(dict.fromkeys(int(s) for s in seeds))
        known = [s for s in self.seed_order if s in present]
        return known + sorted(s for s in present if s not in known)


def target_slice(target: Any, variant: str) -> str | None:
    """The slice an augmenter target aims at: light users -> ``activity-q1``, cold items -> ``cold-items``, a list
    of user ids -> the users the arm touched; ``all`` -> none (slice ``all`` is primary anyway)."""
    if isinstance(target, list | tuple | np.ndarray):
        return f"touched:{variant}"
    return TARGET_SLICES.get(str(target)) if target is not None else TARGET_SLICES["light-users"]
