"""The augmenter contract, scikit-learn style.

* constructor: keyword-only parameters, stored unchanged (``get_params``);
* ``fit(train: TrainingData) -> self``: learns only from the training split;
* ``augment(budget, *, target=None, progress=None) -> AugmentResult``.

Subclasses implement ``_fit`` and ``_propose``; the public methods validate input
and clean the output (drop pairs already in training, duplicates, unknown items),
so every augmenter obeys the same rules.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypedDict

import numpy as np
import pandas as pd

from recaug.augment.targets import TARGETS, Target, resolve_target
from recaug.core.errors import RecaugInputError
from recaug.core.params import Constraint, Interval, Options, Parameterised
from recaug.core.progress import ProgressFn, no_progress
from recaug.core.registry import Registry, subclass_check
from recaug.data.dataset import VIRTUAL_PREFIX, TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, ORIGIN, POLARITY, USER

SYNTHETIC_COLUMNS = [USER, ITEM, ORIGIN, CONFIDENCE, "prompt_id"]


class AugmentOptions(TypedDict, total=False):
    """The options every augmenter has, typed once for the ``**options`` that subclasses forward to the base.

    Their defaults and meaning live in :meth:`Augmenter.__init__`; forms and ``--param`` read them from there.
    """

    denoise: float
    max_per_user: int
    max_per_item: int


BASE_OPTIONS = tuple(AugmentOptions.__annotations__)


class NotFittedError(RuntimeError):
    """``augment`` was called before ``fit``."""


@dataclass
class AugmentResult:
    """Synthetic rows (canonical columns), run info (counts, timings, ...) and the parameters used."""

    rows: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    log: pd.DataFrame | None = None  # per-call provenance (LLM augmenters): prompt, response, decision, ...
    artifacts: dict[str, Any] = field(default_factory=dict)  # e.g. profiles, learned embeddings, enriched text
    # Training edges to REMOVE (user_id, item_id), e.g. ``edge-dropout``; None for the usual add-only augmenters.
    removed: pd.DataFrame | None = None
    # Start vectors for item factors (index: item_id; one row per item with a vector), e.g. ``llm-init``; the
    # experiment hands them to models with ``uses_item_init``. None for augmenters that only change rows.
    item_init: pd.DataFrame | None = None


def resolve_budget(budget: int | float, n_train: int) -> int:
    """An int is a count; a float is a fraction of the training interactions."""
    if isinstance(budget, bool) or not isinstance(budget, int | float | np.integer | np.floating):
        raise RecaugInputError(f"budget must be a number, got {budget!r}", fix="use e.g. 0.1 or 5000")
    if isinstance(budget, float | np.floating):
        if not 0 < budget <= 10:
            raise RecaugInputError(
                f"a fractional budget must be in (0, 10], got {budget}", fix="use 0.1 for +10% of training interactions"
            )
        return max(1, round(float(budget) * n_train))
    if budget < 1:
        raise RecaugInputError(f"budget must be at least 1, got {budget}")
    return int(budget)


class Augmenter(Parameterised, ABC):
    """Base class; see the module docstring for the contract."""

    name: ClassVar[str]
    description: ClassVar[str]
    family: ClassVar[str] = "heuristic"
    # False for augmenters that change how models start rather than what they train on (``llm-init``): their
    # budget is not a row count, so no "budget not reached" note.
    adds_rows: ClassVar[bool] = True

    # Constructor parameters with a fixed set of values, for forms and CLI parsing (see ``recaug.augment.options``).
    param_choices: ClassVar[dict[str, tuple[str, ...]]] = {}
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "seed": [Interval(int, 0, None)],
        "target": [Options(TARGETS), list, tuple, np.ndarray],
        "denoise": [Interval(float, 0.0, 1.0, closed="left")],
        "max_per_user": [Interval(int, 0, None)],
        "max_per_item": [Interval(int, 0, None)],
    }

    @classmethod
    def parameter_constraints(cls) -> dict[str, list[Constraint]]:
        """The declared constraints, plus each ``param_choices`` entry as its options (choices are declared once)."""
        choices: dict[str, list[Constraint]] = {name: [Options(tuple(v))] for name, v in cls.param_choices.items()}
        return {**choices, **super().parameter_constraints()}

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        denoise: float = 0.0,
        max_per_user: int = 0,
        max_per_item: int = 0,
    ) -> None:
        self.seed = seed
        self.target = target
        self.denoise = denoise  # fraction of synthetic edges a train-only BPR finds least plausible, dropped
        # At most this many synthetic rows per user (0: no cap): a light user with 20 real interactions should not
        # receive 40 synthetic ones and have their real taste drowned out.
        self.max_per_user = max_per_user
        # At most this many synthetic rows per item (0: no cap): stops a generator that collapses onto a few
        # popular items (CFGAN does) from pushing popularity bias into the training data.
        self.max_per_item = max_per_item

    # --- public API -------------------------------------------------------------
    def fit(self, train: TrainingData, *, progress: ProgressFn | None = None) -> Self:
        """Learn from the training split only; returns self. ``_fit`` reports through ``self._progress``."""
        if not isinstance(train, TrainingData):
            raise TypeError("fit expects TrainingData (Dataset.training_data(split.train))")
        self.validate_params()
        self.train_ = train
        self.info_: dict[str, Any] = {}
        self.log_: pd.DataFrame | None = None
        self.artifacts_: dict[str, Any] = {}
        self.item_init_: pd.DataFrame | None = None
        self._progress: ProgressFn = progress or no_progress
        try:
            self._fit(train)
        finally:
            self._progress = no_progress
        return self

    def augment(
        self, budget: int | float, *, target: str | list[str] | None = None, progress: ProgressFn | None = None
    ) -> AugmentResult:
        """Propose up to ``budget`` new interactions for the target users/items."""
        if not hasattr(self, "train_"):
            raise NotFittedError(f"{self.name}: call fit(train) before augment()")
        train = self.train_
        n = resolve_budget(budget, len(train.interactions))
        resolved = resolve_target(train, target if target is not None else self.target)
        self.validate_params()  # again: set_params may have changed them since fit
        report = progress or no_progress
        started = time.perf_counter()
        self.removed_: pd.DataFrame | None = None
        # With denoising, ask for a larger pool so that after dropping its worst part the budget can still be met.
        pool = math.ceil(n / (1.0 - self.denoise))
        proposed = self._propose(pool, resolved, np.random.default_rng(self.seed), report)
        proposed, proposed_negatives = split_polarity(proposed)
        rows, capped = self._clean(proposed, pool)
        if self.removed_ is not None:  # removals obey the budget too (they are never denoised)
            self.removed_ = self.removed_.head(n).reset_index(drop=True)
        denoise_info: dict[str, Any] = {}
        if self.denoise > 0:
            from recaug.augment.denoise import drop_implausible

            rows, denoise_info = drop_implausible(train, rows, self.denoise, seed=self.seed, progress=report)
        rows = rows.head(n)
        negatives = self._clean_negatives(proposed_negatives, rows, n)
        report(1.0, f"{self.name}: {len(rows)} synthetic interactions")
        info = {
            "augmenter": self.name,
            "budget": n if self.adds_rows else 0,
            "target": resolved.description,
            "proposed": len(proposed) if proposed is not None else 0,
            "kept": len(rows),
            # Real users given rows, and apart from them the virtual users a generator created (GANs, mixup): a
            # count of both read as thousands of real users touched where the target held a few hundred.
            "users_touched": _count_users(rows, virtual=False),
            "virtual_users": _count_users(rows, virtual=True),
            "synthetic_share": len(rows) / max(len(train.interactions), 1),
            "seconds": round(time.perf_counter() - started, 3),
            **{f"dropped_by_{unit}_cap": count for unit, count in capped.items()},
            **denoise_info,
            **({"removed": len(self.removed_)} if self.removed_ is not None else {}),
            **({"negatives": len(negatives)} if negatives is not None else {}),
            **self.info_,
        }
        if negatives is not None:
            rows = pd.concat([rows.assign(**{POLARITY: 1}), negatives.assign(**{POLARITY: -1})], ignore_index=True)
        return AugmentResult(
            rows=rows,
            info=info,
            params=self.get_params(deep=False),
            log=self.log_,
            artifacts=dict(self.artifacts_),
            removed=self.removed_,
            item_init=self.item_init_,
        )

    # --- for subclasses ---------------------------------------------------------
    def _fit(self, train: TrainingData) -> None:
        """Learn what ``_propose`` needs (default: nothing)."""

    @abstractmethod
    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        """Return candidate rows with user_id, item_id, confidence (and optional prompt_id), best first."""

    # --- shared cleaning ----------------------------------------------------------
    def _clean_negatives(self, negatives: pd.DataFrame | None, positives: pd.DataFrame, budget: int) -> Any:
        """Negative rows (``polarity`` -1) cleaned like positives, kept only for users who kept a positive and
        never for a pair that is also a positive; at most ``budget`` of them. None when none were proposed."""
        if negatives is None:
            return None
        rows, _ = self._clean(negatives.drop(columns=POLARITY), budget)
        rows = rows[rows[USER].isin(set(positives[USER]))]
        return rows[~pd.MultiIndex.from_frame(rows[[USER, ITEM]]).isin(positives.set_index([USER, ITEM]).index)]

    def _clean(self, proposed: pd.DataFrame, budget: int) -> tuple[pd.DataFrame, dict[str, int]]:
        """Valid, new, unique rows within the per-user and per-item caps, then the first ``budget``.

        Returns the rows and, per cap in use ("user", "item"), how many valid rows it dropped.
        """
        train = self.train_
        if proposed is None or len(proposed) == 0:
            empty = pd.DataFrame({c: pd.Series(dtype=object if c != CONFIDENCE else float) for c in SYNTHETIC_COLUMNS})
            return empty, {}
        rows = proposed.copy()
        rows[USER] = rows[USER].astype(str)
        rows[ITEM] = rows[ITEM].astype(str)
        item_idx = train.item_ids.get_indexer(rows[ITEM])
        known = item_idx >= 0
        known[known] = train.item_visible()[item_idx[known]]  # items seen only in validation/test are dropped
        rows = rows[known]
        item_idx = item_idx[known]
        user_idx = train.user_ids.get_indexer(rows[USER])
        real = user_idx >= 0
        virtual = rows[USER].str.startswith(VIRTUAL_PREFIX).to_numpy()
        keep = real | virtual
        seen = np.zeros(len(rows), dtype=bool)
        if real.any():
            seen[real] = np.asarray(train.matrix[user_idx[real], item_idx[real]]).ravel() > 0
        rows = rows[keep & ~seen].drop_duplicates([USER, ITEM], keep="first")
        capped: dict[str, int] = {}
        # Rows come best first, so each user (item) keeps its most confident ones.
        for unit, column, cap in (("user", USER, self.max_per_user), ("item", ITEM, self.max_per_item)):
            if cap:
                within_cap = rows.groupby(column, sort=False).cumcount() < cap
                capped[unit] = int((~within_cap).sum())
                rows = rows[within_cap]
        rows = rows.head(budget)
        rows[ORIGIN] = self.name
        rows[CONFIDENCE] = rows[CONFIDENCE].astype(float).clip(0.0, 1.0) if CONFIDENCE in rows else 1.0
        if "prompt_id" not in rows:
            rows["prompt_id"] = ""
        extra = [c for c in rows.columns if c not in SYNTHETIC_COLUMNS]
        return rows[SYNTHETIC_COLUMNS + extra].reset_index(drop=True), capped


def _count_users(rows: pd.DataFrame, *, virtual: bool) -> int:
    """Distinct users of ``rows`` that are virtual (ids starting with ``VIRTUAL_PREFIX``) or real."""
    if not len(rows):
        return 0
    users = pd.Series(rows[USER].unique()).astype(str)
    return int((users.str.startswith(VIRTUAL_PREFIX) == virtual).sum())


def split_polarity(proposed: pd.DataFrame | None) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(positive rows, negative rows or None) of a proposal; without a ``polarity`` column all rows are positive.

    Negatives do not count against the budget: they say what a user would NOT like (LLMRec's negative pick), and
    the experiment gives them to models that train with fixed hard negatives instead of adding them as edges.
    """
    if proposed is None or POLARITY not in proposed.columns:
        return proposed, None
    negative = pd.to_numeric(proposed[POLARITY], errors="coerce").fillna(1).to_numpy() < 0
    return proposed[~negative].drop(columns=POLARITY), proposed[negative]


AUGMENTERS: Registry[type[Augmenter]] = Registry(
    "augmenter", entry_point_group="recaug.augmenters", check=subclass_check(Augmenter, "an augmenter")
)


def register(cls: type[Augmenter]) -> type[Augmenter]:
    """Class decorator: add an augmenter under its ``name``."""
    AUGMENTERS.add(cls.name, cls)
    return cls


def create_augmenter(name: str, **params: Any) -> Augmenter:
    """Instantiate a registered augmenter, with a clear message for unknown parameters."""
    return AUGMENTERS.get(name).create(name, **params)
