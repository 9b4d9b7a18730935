"""Slices: for whom (and on which items) a model got better or worse.

* ``all``: every evaluated user.
* ``activity-q1`` .. ``activity-q4``: users by real training degree (q1 = lightest quarter), edges from the
  evaluated users' degree quartiles (``degree <= edge`` goes to the lower quarter).
* ``cold-users`` / ``warm-users``: only under the ``cold-users`` protocol.
* ``touched:<augmenter>`` / ``untouched:<augmenter>``: real users who did / did not get synthetic interactions (or
  lose training rows) from that augmenter. The baseline is sliced by every augmenter's sets, so each variant is
  paired with the baseline on the same users.
* ``cold-items`` / ``warm-items`` (item slices): accuracy metrics with the relevant set restricted to test items that
  are cold / warm, ranking unchanged (the top-k the user would really see, all items competing), over users with
  at least one such test item. Cold items are the protocol's held-out items under ``cold-items``, otherwise items
  whose real training count is at or below the ``COLD_QUANTILE`` quantile (the rule of the augmenters'
  ``cold-items`` target). Beyond-accuracy metrics describe whole lists, so item slices carry accuracy metrics only.

User slices hold per-user values (for the bootstrap in :mod:`recaug.evaluate.significance`) and list-level
metrics (coverage, Gini) of the slice's users' lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.data.dataset import Dataset
from recaug.data.schema import USER
from recaug.data.splits import Split
from recaug.evaluate.beyond import LIST_METRICS, Popularity, list_metrics, with_beyond_metrics
from recaug.evaluate.catalog import check_metrics
from recaug.evaluate.metrics import ACCURACY_METRICS, per_user_metrics
from recaug.evaluate.protocol import Scorer, UserMetrics, evaluate_model

COLD_QUANTILE = 0.25
MetricKey = tuple[str, int]


@dataclass(frozen=True)
class SliceValues:
    """One slice of one evaluated model: its users, their per-user values, and list-level values."""

    users: np.ndarray  # user indices
    values: dict[MetricKey, np.ndarray]  # per-user, aligned with ``users``
    lists: dict[MetricKey, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SliceContext:
    """What slicing needs about one split (and one variant's augmentation), built once per seed."""

    n_items: int
    degree: np.ndarray  # real training interactions per real user
    cold_items: np.ndarray  # bool per item
    cold_users: np.ndarray  # bool per real user (cold-users protocol)
    test_cold: sp.csr_matrix  # test restricted to cold items
    test_warm: sp.csr_matrix  # test restricted to warm items
    touched: dict[str, np.ndarray]  # augmenter -> bool per real user
    ks: tuple[int, ...]
    list_metrics: tuple[str, ...] = LIST_METRICS
    popularity: Popularity | None = None

    @classmethod
    def build(
        cls,
        dataset: Dataset,
        split: Split,
        train: sp.csr_matrix,
        test: sp.csr_matrix,
        *,
        changed_rows: Mapping[str, Iterable[pd.DataFrame]] | None = None,
        ks: Iterable[int] = (10, 20, 50),
        metrics: Iterable[str] = LIST_METRICS,
    ) -> SliceContext:
        """``train``/``test``: real users' matrices; ``changed_rows``: augmenter -> frames whose users it changed;
        ``metrics``: the run's metric names (the list-level ones among them are computed per slice)."""
        popularity = Popularity.from_matrix(train)
        if len(split.cold_items):
            cold = np.zeros(dataset.n_items, dtype=bool)
            idx = dataset.item_ids.get_indexer(pd.Index(split.cold_items).astype(str))
            cold[idx[idx >= 0]] = True
        else:
            cold = popularity.counts <= np.quantile(popularity.counts, COLD_QUANTILE)
        cold_users = np.zeros(dataset.n_users, dtype=bool)
        if len(split.cold_users):
            idx = dataset.user_ids.get_indexer(pd.Index(split.cold_users).astype(str))
            cold_users[idx[idx >= 0]] = True
        touched = {}
        for name, frames in (changed_rows or {}).items():
            mask = np.zeros(dataset.n_users, dtype=bool)
            for frame in frames:
                if frame is not None and len(frame):
                    idx = dataset.user_ids.get_indexer(frame[USER].astype(str))
                    mask[idx[idx >= 0]] = True  # virtual users are never evaluated
            touched[name] = mask
        lists = tuple(name for name in metrics if name in LIST_METRICS)
        return cls(
            n_items=dataset.n_items,
            degree=np.diff(train.indptr),
            cold_items=cold,
            cold_users=cold_users,
            test_cold=_restrict_columns(test, cold),
            test_warm=_restrict_columns(test, ~cold),
            touched=touched,
            ks=tuple(ks),
            list_metrics=lists,
            popularity=popularity,
        )

    def for_variant(self, variant: str) -> SliceContext:
        """An augmenter's variant is sliced by its own touched set; the baseline by every augmenter's."""
        if variant not in self.touched:
            return self
        return replace(self, touched={variant: self.touched[variant]})


SliceFn = Callable[[UserMetrics, SliceContext], dict[str, SliceValues]]


def _restrict_columns(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix @ sp.diags(keep.astype(np.float32)))
    out.eliminate_zeros()
    return out


def _user_slice(metrics: UserMetrics, mask: np.ndarray, context: SliceContext) -> SliceValues:
    top = metrics.top[mask]
    lists = list_metrics(top, context.n_items, context.ks, context.list_metrics) if len(top) else {}
    return SliceValues(
        users=metrics.users[mask], values={key: v[mask] for key, v in metrics.values.items()}, lists=lists
    )


def _item_slice(metrics: UserMetrics, relevant: sp.csr_matrix) -> SliceValues | None:
    rows = relevant[metrics.users]
    has = np.diff(rows.indptr) > 0
    names = tuple(dict.fromkeys(name for name, _ in metrics.values if name in ACCURACY_METRICS))
    ks = tuple(dict.fromkeys(k for name, k in metrics.values if name in ACCURACY_METRICS))
    if not has.any() or not names:
        return None
    values = per_user_metrics(metrics.top[has], rows[has], ks, names)
    return SliceValues(users=metrics.users[has], values=values)


def activity_quartiles(degree: np.ndarray) -> np.ndarray:
    """Quarter 0..3 of each degree, by the quartile edges of ``degree`` itself (ties go to the lower quarter)."""
    if len(degree) == 0:
        return np.zeros(0, dtype=int)
    edges = np.quantile(degree, [0.25, 0.5, 0.75])
    return np.searchsorted(edges, degree, side="left")


def overall_slice(metrics: UserMetrics, context: SliceContext) -> dict[str, SliceValues]:
    """Only ``all`` (benchmarks, quick looks)."""
    return {"all": _user_slice(metrics, np.ones(len(metrics.users), dtype=bool), context)}


def standard_slices(metrics: UserMetrics, context: SliceContext) -> dict[str, SliceValues]:
    """Every slice the module docstring lists; empty slices are left out."""
    users = metrics.users
    masks: dict[str, np.ndarray] = {"all": np.ones(len(users), dtype=bool)}
    quarter = activity_quartiles(context.degree[users])
    for q in range(4):
        masks[f"activity-q{q + 1}"] = quarter == q
    if context.cold_users.any():
        masks["cold-users"] = context.cold_users[users]
        masks["warm-users"] = ~context.cold_users[users]
    for name, touched in context.touched.items():
        masks[f"touched:{name}"] = touched[users]
        masks[f"untouched:{name}"] = ~touched[users]
    out = {name: _user_slice(metrics, mask, context) for name, mask in masks.items() if mask.any()}
    for name, relevant in (("cold-items", context.test_cold), ("warm-items", context.test_warm)):
        sliced = _item_slice(metrics, relevant)
        if sliced is not None:
            out[name] = sliced
    return out


def slice_rows(model: str, variant: str, seed: int, slices: Mapping[str, SliceValues]) -> list[dict[str, Any]]:
    """Tidy result rows (model, variant, seed, slice, metric, k, value, n_users): per-user means, then list-level
    values; ``n_users`` is how many users the slice held, so every number can be shown with it."""
    rows: list[dict[str, Any]] = []
    for name, sliced in slices.items():
        entries = [(key, float(v.mean())) for key, v in sliced.values.items() if len(v)] + list(sliced.lists.items())
        rows.extend(
            {
                "model": model,
                "variant": variant,
                "seed": seed,
                "slice": name,
                "metric": metric,
                "k": k,
                "value": value,
                "n_users": len(sliced.users),
            }
            for (metric, k), value in entries
        )
    return rows


def evaluate_sliced(
    model: Scorer,
    target: sp.csr_matrix,
    exclude: sp.csr_matrix,
    context: SliceContext,
    metrics: Iterable[str],
    slice_fn: SliceFn = standard_slices,
) -> tuple[UserMetrics, dict[str, SliceValues]]:
    """Rank once, compute accuracy and per-user beyond-accuracy metrics, and cut them into slices."""
    names = check_metrics(metrics)
    accuracy = tuple(name for name in names if name in ACCURACY_METRICS)
    result = evaluate_model(model, target, exclude, ks=context.ks, metrics=accuracy)
    if context.popularity is not None:
        result = with_beyond_metrics(result, context.popularity, context.ks, tuple(names))
    lists = tuple(name for name in context.list_metrics if name in names)
    return result, slice_fn(result, replace(context, list_metrics=lists))
