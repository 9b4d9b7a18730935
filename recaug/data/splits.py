"""Split protocols, each a named function ``(interactions, seed, **params) -> Split``.

* ``random-811``: per-user random 80/10/10 (RecBole's default).
* ``temporal``: one global time cut-off; the latest interactions are test, the ones just before are validation.
* ``leave-last-out``: per user, the last interaction is test and the one before it validation.
* ``cold-items``: a seeded share of items is held out of training entirely; half of them (and all their
  interactions) form validation, the other half test, so the cold test items are never seen before test.
* ``cold-users``: a seeded share of users keeps only its first ``n`` interactions for training; the rest is test.

Every protocol labels each real row train/valid/test once; synthetic rows never reach valid/test because
augmenters only ever see ``Split.train``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.core.registry import Registry
from recaug.data.schema import ITEM, TIMESTAMP, USER

TRAIN, VALID, TEST = 0, 1, 2


def _no_ids() -> np.ndarray:
    return np.array([], dtype=object)


@dataclass(frozen=True)
class Split:
    """Three disjoint parts of the real interactions. Synthetic rows never enter valid/test.

    ``cold_items`` (item ids with no training interaction by design, ``cold-items``) and ``cold_users`` (user ids
    cut to their first ``n`` interactions, ``cold-users``) are empty for the other protocols; ``params`` are the
    protocol's keyword parameters, recorded for reproducibility.
    """

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    protocol: str
    seed: int
    cold_items: np.ndarray = field(default_factory=_no_ids)
    cold_users: np.ndarray = field(default_factory=_no_ids)
    params: dict[str, Any] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """user_id,item_id,part,seed for auditing a run (``split.csv`` stacks every seed's table)."""
        parts = [
            part.assign(part=name)[[USER, ITEM, "part"]]
            for name, part in (("train", self.train), ("valid", self.valid), ("test", self.test))
        ]
        return pd.concat(parts, ignore_index=True).assign(seed=self.seed)


@dataclass(frozen=True)
class SplitSpec:
    """How to split: a protocol and its parameters. With a seed it gives one :class:`Split`.

    This is the one place a split is built (:meth:`build`); the experiment builds each seed's split once and
    carries it to fidelity, the report, the explorer and the what-ifs, so nothing downstream re-splits with other
    parameters.
    """

    protocol: str = "random-811"
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, protocol: str, params: dict[str, Any] | None = None) -> SplitSpec:
        """A spec from a protocol name and a parameter dict (validated now, so bad input fails before compute)."""
        spec = cls(protocol, tuple(sorted((params or {}).items())))
        check_protocol_params(protocol, dict(spec.params))
        return spec

    def build(self, interactions: pd.DataFrame, seed: int) -> Split:
        """The split of ``interactions`` for ``seed`` (deterministic)."""
        return make_split(interactions, self.protocol, seed, **dict(self.params))

    def key(self) -> str:
        """A stable text key for caches, e.g. ``cold-users(n=2)``."""
        inner = ",".join(f"{name}={value}" for name, value in self.params)
        return f"{self.protocol}({inner})" if inner else self.protocol


SplitFn = Callable[..., Split]
SPLITS: Registry[SplitFn] = Registry("split protocol")


def _assemble(interactions: pd.DataFrame, part: np.ndarray, protocol: str, seed: int, **extra: Any) -> Split:
    """Cut the frame by part label (0 train, 1 valid, 2 test), keeping the original row order in each part."""
    return Split(
        train=interactions[part == TRAIN].reset_index(drop=True),
        valid=interactions[part == VALID].reset_index(drop=True),
        test=interactions[part == TEST].reset_index(drop=True),
        protocol=protocol,
        seed=seed,
        **extra,
    )


def recbole_counts(sizes: np.ndarray, valid: float, test: float) -> tuple[np.ndarray, np.ndarray]:
    """(n_valid, n_test) per group of ``sizes`` rows, exactly as RecBole 1.2.1's ``Dataset._calcu_split_ids``.

    RecBole rounds each held-out part down (``int(ratio * n)``), then, while more than one training row is left,
    gives one row to each held-out part whose share of the group is between 0 and 1 row (test first, then
    validation). Rounding to nearest instead gave ML-100k 10,037 test rows against RecBole's 9,596.
    """
    total = (1.0 - valid - test) + valid + test  # RecBole divides the ratios by their sum
    exact_valid, exact_test = sizes * (valid / total), sizes * (test / total)
    n_valid = np.floor(exact_valid).astype(np.int64)
    n_test = np.floor(exact_test).astype(np.int64)
    n_train = sizes - n_valid - n_test
    for exact, count in ((exact_test, n_test), (exact_valid, n_valid)):
        bump = (n_train > 1) & (exact > 0) & (exact < 1)
        count += bump
        n_train -= bump
    return n_valid, n_test


def _user_codes(interactions: pd.DataFrame) -> np.ndarray:
    """Users as integers 0..n-1: the dataset's ``user_idx`` when present, else codes of the user ids (grouping
    integers instead of id strings made a 1M-row split 10x cheaper; it is rebuilt in every pool worker)."""
    if "user_idx" in interactions.columns:
        return interactions["user_idx"].to_numpy(dtype=np.int64)
    return pd.factorize(interactions[USER])[0].astype(np.int64)


def _per_user_ratio(interactions: pd.DataFrame, seed: int, valid: float, test: float) -> np.ndarray:
    """Part label per row (0 train, 1 valid, 2 test) from a per-user random order.

    The counts are RecBole's (:func:`recbole_counts`); the last rows of each user's shuffled order are test, the
    ones before them validation, as in RecBole's ``split_by_ratio`` grouped by user.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(interactions))
    users = _user_codes(interactions)[order]
    # Position of each row among its user's rows in the shuffled order: a stable sort by user keeps that order.
    by_user = np.argsort(users, kind="stable")
    per_user = np.bincount(users)
    rank = np.empty(len(order), dtype=np.int64)
    rank[by_user] = np.arange(len(order)) - np.repeat(np.cumsum(per_user) - per_user, per_user)
    sizes = per_user[users]
    n_valid, n_test = recbole_counts(sizes, valid, test)
    part_sorted = np.where(rank < sizes - n_valid - n_test, 0, np.where(rank < sizes - n_test, 1, 2))
    part = np.empty(len(order), dtype=np.int8)
    part[order] = part_sorted
    return part


def _require_timestamps(interactions: pd.DataFrame, protocol: str) -> None:
    if TIMESTAMP not in interactions.columns or interactions[TIMESTAMP].isna().all():
        raise RecaugInputError(
            f"the '{protocol}' protocol orders interactions by time, but the data has no timestamps",
            column=TIMESTAMP,
            fix="map a timestamp column, or use the 'random-811' protocol",
        )
    if interactions[TIMESTAMP].isna().any():
        row = int(np.flatnonzero(interactions[TIMESTAMP].isna().to_numpy())[0])
        raise RecaugInputError(
            f"the '{protocol}' protocol needs a timestamp on every interaction",
            row=row,
            column=TIMESTAMP,
            fix="drop rows without a timestamp, or use 'random-811'",
        )


@dataclass(frozen=True)
class ProtocolParam:
    """One protocol parameter's type, range and meaning: the CLI, the notebook API, config.json reruns and the
    dashboard form all check a value here (:func:`check_protocol_params`), before any data is loaded."""

    name: str
    meaning: str  # what the value sets, for messages and hover texts
    low: float
    high: float
    whole: bool = False  # a count (low..high, both allowed); else a share in (low, high]

    def span(self) -> str:
        """The allowed values in words: '1..5' or '(0, 0.5]'."""
        return f"{self.low:g}..{self.high:g}" if self.whole else f"({self.low:g}, {self.high:g}]"

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is refused, or None when it is allowed (bools and text are refused: not numbers)."""
        numeric = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)
        if self.whole and not (numeric and isinstance(value, int | np.integer)):
            return f"must be a whole number {self.span()}"
        if not numeric:
            return f"must be a number in {self.span()}"
        inside = self.low <= value <= self.high if self.whole else self.low < value <= self.high
        return None if inside else f"must be in {self.span()}"


# Every protocol parameter, declared once (the split functions' keyword defaults are the defaults).
PROTOCOL_PARAMETERS: dict[str, tuple[ProtocolParam, ...]] = {
    "temporal": (
        ProtocolParam("valid", "the share of interactions, just before the test ones, used for validation", 0.0, 0.5),
        ProtocolParam("test", "the share of the latest interactions used as test", 0.0, 0.5),
    ),
    "cold-items": (
        ProtocolParam(
            "fraction", "the share of items held out of training, half for validation and half for test", 0.0, 0.5
        ),
    ),
    "cold-users": (
        ProtocolParam("n", "the training interactions each cold user keeps", 1, 5, whole=True),
        ProtocolParam("share", "the share of users made cold", 0.0, 0.9),
    ),
}


MAX_HELD_OUT = 0.9  # valid + test: at least 10% of the interactions stay for training


def check_protocol_params(protocol: str, params: dict[str, Any]) -> None:
    """Raise RecaugInputError, naming the protocol, the parameter, the value and what to write, for an unknown
    protocol, an unknown parameter or a value of the wrong type or range (a text share once crashed the CLI with a
    TypeError after the data had loaded)."""
    allowed = protocol_params(protocol)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise RecaugInputError(
            f"protocol '{protocol}' has no parameter(s) {', '.join(unknown)}",
            fix=f"its parameters: {', '.join(allowed)}" if allowed else "this protocol takes no parameters: drop them",
        )
    for spec in PROTOCOL_PARAMETERS.get(protocol, ()):
        if spec.name in params and (problem := spec.problem(params[spec.name])) is not None:
            raise RecaugInputError(
                f"protocol '{protocol}': {spec.name} {problem} ({spec.meaning}), got {params[spec.name]!r}",
                fix=f"write a value in {spec.span()}, e.g. {spec.name}={allowed[spec.name]} (the default)",
            )
    held = {name: params.get(name, allowed[name]) for name in ("valid", "test") if name in allowed}
    if len(held) == 2 and float(held["valid"]) + float(held["test"]) > MAX_HELD_OUT:
        # Each share alone may be allowed while together they leave (almost) nothing to train on; "use more data"
        # was the message, which more data cannot fix.
        raise RecaugInputError(
            f"protocol '{protocol}': valid {held['valid']} + test {held['test']} leaves "
            f"{1 - float(held['valid']) - float(held['test']):.0%} of the interactions for training",
            fix=f"keep valid + test at most {MAX_HELD_OUT:g}, e.g. valid=0.1,test=0.1 (the defaults)",
        )


def _time_rank_within_user(interactions: pd.DataFrame, seed: int, *, from_end: bool) -> np.ndarray:
    """Position of each row in its user's history: by timestamp, or seeded order without one.

    Rows with equal timestamps are ordered by a seeded shuffle, not by row order: in ML-100k 415 of 943 users have
    several items at their last timestamp, and a fixed rule would always send the same one (e.g. the largest id) to
    test.
    """
    shuffled = np.random.default_rng(seed).permutation(len(interactions))
    if TIMESTAMP in interactions.columns and interactions[TIMESTAMP].notna().all():
        ordered = interactions[[USER, TIMESTAMP]].iloc[shuffled].sort_values([USER, TIMESTAMP], kind="stable")
    else:
        ordered = interactions[[USER]].iloc[shuffled].sort_values(USER, kind="stable")
    rank = ordered.groupby(USER, sort=False).cumcount(ascending=not from_end)
    return rank.reindex(interactions.index).to_numpy()


@SPLITS.register("random-811")
def split_random_811(interactions: pd.DataFrame, seed: int) -> Split:
    """Per-user random 80/10/10 (RecBole's default protocol)."""
    part = _per_user_ratio(interactions, seed, valid=0.1, test=0.1)
    return _assemble(interactions, part, "random-811", seed)


@SPLITS.register("temporal")
def split_temporal(interactions: pd.DataFrame, seed: int, *, valid: float = 0.1, test: float = 0.1) -> Split:
    """One global cut-off: the latest ``test`` share is test, the ``valid`` share just before it validation.

    Rows are ordered by (timestamp, user, item), so the split is deterministic and the seed is unused; equal
    timestamps at a boundary may fall on either side. Users or items first seen after the cut-off stay in test:
    that is what a deployed model meets.
    """
    _require_timestamps(interactions, "temporal")
    check_protocol_params("temporal", {"valid": valid, "test": test})
    n = len(interactions)
    n_test, n_valid = round(n * test), round(n * valid)
    if n - n_test - n_valid < 1 or n_test < 1:
        raise RecaugInputError(f"temporal split needs more interactions than {n}", fix="use more data")
    order = (
        interactions[[TIMESTAMP, USER, ITEM]]
        .reset_index(drop=True)
        .sort_values([TIMESTAMP, USER, ITEM], kind="stable")
        .index.to_numpy()
    )
    part = np.zeros(n, dtype=np.int8)
    part[order[n - n_test - n_valid : n - n_test]] = VALID
    part[order[n - n_test :]] = TEST
    return _assemble(interactions, part, "temporal", seed, params={"valid": valid, "test": test})


@SPLITS.register("leave-last-out")
def split_leave_last_out(interactions: pd.DataFrame, seed: int) -> Split:
    """Each user's last interaction is test and the one before it validation (ties: broken by the seed).

    Users with two interactions give one to test and none to validation; users with one keep it for training.
    The seed only decides between interactions with the same timestamp.
    """
    _require_timestamps(interactions, "leave-last-out")
    frame = interactions.reset_index(drop=True)
    from_end = _time_rank_within_user(frame, seed, from_end=True)
    size = frame.groupby(USER)[USER].transform("size").to_numpy()
    part = np.where((from_end == 0) & (size >= 2), TEST, np.where((from_end == 1) & (size >= 3), VALID, TRAIN))
    return _assemble(interactions, part.astype(np.int8), "leave-last-out", seed)


@SPLITS.register("cold-items")
def split_cold_items(interactions: pd.DataFrame, seed: int, *, fraction: float = 0.15) -> Split:
    """Hold a seeded ``fraction`` of items out of training; warm items' rows are split per user 80/10/10.

    The held-out items are halved: all interactions of the first half go to validation (so a content model can
    tune its cold-item behaviour there), all of the second half to test. Test therefore holds cold items no model
    has seen in any form, plus the warm test rows, which is ColdRec's cold / warm / overall setting.
    """
    check_protocol_params("cold-items", {"fraction": fraction})
    items = np.sort(interactions[ITEM].astype(str).unique())
    n_cold = round(fraction * len(items))
    if n_cold < 2 or n_cold >= len(items):
        raise RecaugInputError(
            f"cold-items needs at least 2 cold and 1 warm item; {len(items)} items with "
            f"fraction {fraction} gives {n_cold} cold",
            fix="use more items or a larger fraction",
        )
    rng = np.random.default_rng(seed)
    cold = rng.choice(items, size=n_cold, replace=False)
    cold_valid, cold_test = set(cold[: n_cold // 2]), set(cold[n_cold // 2 :])
    item_col = interactions[ITEM].astype(str)
    is_cold_valid = item_col.isin(cold_valid).to_numpy()
    is_cold_test = item_col.isin(cold_test).to_numpy()
    warm = ~(is_cold_valid | is_cold_test)
    part = np.zeros(len(interactions), dtype=np.int8)
    part[warm] = _per_user_ratio(interactions[warm], seed, valid=0.1, test=0.1)
    part[is_cold_valid] = VALID
    part[is_cold_test] = TEST
    return _assemble(
        interactions, part, "cold-items", seed, cold_items=np.sort(cold).astype(object), params={"fraction": fraction}
    )


@SPLITS.register("cold-users")
def split_cold_users(interactions: pd.DataFrame, seed: int, *, n: int = 3, share: float = 0.2) -> Split:
    """A seeded ``share`` of users keeps only its first ``n`` interactions for training, the rest is test.

    "First" is by timestamp when there is one, else a seeded random order. Only users with more than ``n``
    interactions can be cold. Cold users give nothing to validation, so early stopping sees warm users only; the
    other users are split per user 80/10/10.
    """
    check_protocol_params("cold-users", {"n": n, "share": share})
    frame = interactions.reset_index(drop=True)
    size = frame.groupby(USER)[USER].transform("size").to_numpy()
    users = frame[USER].astype(str).to_numpy()
    eligible = np.sort(np.unique(users[size > n]))
    n_cold = min(len(eligible), round(share * frame[USER].nunique()))
    if n_cold < 1:
        raise RecaugInputError(
            f"cold-users found no user with more than {n} interactions to make cold",
            fix="lower n or use the 'random-811' protocol",
        )
    rng = np.random.default_rng(seed)
    cold = np.sort(rng.choice(eligible, size=n_cold, replace=False))
    is_cold = np.isin(users, cold)
    part = np.zeros(len(frame), dtype=np.int8)
    part[~is_cold] = _per_user_ratio(frame[~is_cold], seed, valid=0.1, test=0.1)
    from_start = _time_rank_within_user(frame, seed, from_end=False)
    part[is_cold] = np.where(from_start[is_cold] < n, TRAIN, TEST)
    return _assemble(
        interactions, part, "cold-users", seed, cold_users=cold.astype(object), params={"n": int(n), "share": share}
    )


def protocol_params(protocol: str) -> dict[str, Any]:
    """The keyword parameters a protocol accepts, with their defaults (for the CLI and the UI)."""
    signature = inspect.signature(SPLITS.get(protocol))
    return {p.name: p.default for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY}


def make_split(interactions: pd.DataFrame, protocol: str, seed: int, **params: Any) -> Split:
    """Run the named protocol (raises RecaugInputError for unknown names or parameters).

    Prefer :class:`SplitSpec` and the splits an experiment result carries over calling this again downstream.
    """
    check_protocol_params(protocol, params)
    split = SPLITS.get(protocol)(interactions, seed, **params)
    _require_test_rows(split, interactions)
    return split


def _require_test_rows(split: Split, interactions: pd.DataFrame) -> None:
    """Refuse a split with nothing to test on, saying why, before any model is fitted: with one interaction per
    user, random-811 kept every row for training and a comparison "finished" with empty results."""
    if len(split.test):
        return
    sizes = interactions.groupby(USER, sort=False).size()
    per_user = split.protocol in ("random-811", "leave-last-out")
    why = (
        f"{int((sizes >= 2).sum()):,} of {len(sizes):,} users have 2 or more interactions, and '{split.protocol}' "
        "holds out a test row only from those"
        if per_user
        else "no interaction fell into the test part"
    )
    raise RecaugInputError(
        f"the '{split.protocol}' split of this data has no test interactions: {why}",
        fix="use data where users have several interactions each, or the 'cold-items' protocol, which tests on "
        "held-out items (--protocol cold-items; in the dashboard, 'Split protocol' on the Augment page)",
    )


# What each protocol does, in a few words; ``{name}`` is filled with the parameter actually used (a share as a
# percentage), so a run made with fraction=0.3 is not described as holding out 15%.
PROTOCOL_SUMMARIES = {
    "random-811": "per-user random 80/10/10 (RecBole's default)",
    "temporal": "one global time cut-off: train on the past, validate and test on the latest {valid} + {test}",
    "leave-last-out": "each user's last interaction is test, the one before validation",
    "cold-items": "{fraction} of items held out of training entirely (half validation, half test)",
    "cold-users": "{share} of users keep only their first {n} interactions for training; the rest is test",
}


# What a seed changes under each protocol (issue 17). True: every seed draws a new split, so replicates carry the
# split's noise and the test users'. False: the test users are the same for every seed: ``temporal`` ignores the
# seed; ``leave-last-out`` re-draws only which of a user's same-time last interactions is test (``SEED_REDRAWS_TIES``:
# in MovieLens-100k that moves about 30% of the test pairs between two seeds).
SEED_CHANGES_SPLIT = {
    "random-811": True,
    "temporal": False,
    "leave-last-out": False,
    "cold-items": True,
    "cold-users": True,
}
SEED_REDRAWS_TIES = frozenset({"leave-last-out"})


def seed_changes_split(protocol: str) -> bool:
    """Whether a new seed gives a new split under ``protocol`` (unknown protocols: assumed to, as most do)."""
    return SEED_CHANGES_SPLIT.get(protocol, True)


def seed_redraws_ties(protocol: str) -> bool:
    """Whether a seed re-draws which of a user's interactions with the same timestamp is held out (the rest of the
    split is fixed)."""
    return protocol in SEED_REDRAWS_TIES


def seed_effect(protocol: str) -> str:
    """What one more seed changes under ``protocol``, in words for help texts and captions (one place says it)."""
    if seed_changes_split(protocol):
        return "each seed re-draws the split and the model's training (and any random augmentation)"
    if seed_redraws_ties(protocol):
        return (
            "the split is fixed except which of a user's same-time last interactions is held out; each seed re-draws "
            "those ties, the model's training and any random augmentation"
        )
    return "the split is fixed; each seed re-draws only the model's training and any random augmentation"


def _param_text(spec: ProtocolParam, value: Any) -> str:
    """A share as a percentage (0.125 -> '12.5%'), a count or a refused value as written."""
    return f"{value}" if spec.whole or spec.problem(value) else f"{float(value) * 100:.3g}%"


def protocol_summary(protocol: str, params: dict[str, Any] | None = None) -> str:
    """A few words on what ``protocol`` does with ``params`` (missing ones: the defaults), for captions, hover texts
    and the report; a protocol without a summary gets its function's first docstring line, else its name."""
    template = PROTOCOL_SUMMARIES.get(protocol)
    if template is None:
        doc = (getattr(SPLITS.get(protocol), "__doc__", "") or "").strip() if protocol in SPLITS else ""
        return doc.splitlines()[0].replace("``", "") if doc else protocol
    values = protocol_params(protocol) | dict(params or {})
    specs = {spec.name: spec for spec in PROTOCOL_PARAMETERS.get(protocol, ())}
    return template.format(**{name: _param_text(spec, values[name]) for name, spec in specs.items()})
