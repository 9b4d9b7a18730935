"""Beyond-accuracy metrics of the recommended lists, from ``UserMetrics.top`` and training popularity.

Augmentation often trades accuracy for popularity bias (or the reverse), so every comparison reports these next
to Recall/NDCG. Popularity is always the *real* training split's, so baseline and augmented models are measured
on one scale.

Per-user (averaged like accuracy metrics, so they slice and bootstrap the same way):

* ``avg_pop``: mean training popularity (interaction count) of the top-k items;
* ``novelty``: mean self-information ``-log2((pop + 1) / (n_users + 1))`` of the top-k items (Zhou et al. 2010,
  add-one smoothed so never-seen items have a finite value);
* ``tail``: share of the top-k items in the long tail (items outside the most popular ``HEAD_SHARE`` of items).

List-level (one number per set of users):

* ``coverage``: share of the catalog that appears in at least one top-k list;
* ``gini``: Gini index of how often each catalog item is recommended (0 = perfectly even, 1 = one item only).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from recaug.evaluate.protocol import UserMetrics

HEAD_SHARE = 0.2
PER_USER_BEYOND = ("avg_pop", "novelty", "tail")
LIST_METRICS = ("coverage", "gini")
BEYOND_METRICS = PER_USER_BEYOND + LIST_METRICS


@dataclass(frozen=True)
class Popularity:
    """Training popularity and what is derived from it, computed once per split."""

    counts: np.ndarray  # interactions per item in the real training split
    n_users: int

    @property
    def self_information(self) -> np.ndarray:
        return -np.log2((self.counts + 1.0) / (self.n_users + 1.0))

    @property
    def tail(self) -> np.ndarray:
        """True for items outside the head: the head is every item at least as popular as the top HEAD_SHARE-th."""
        n_head = max(1, int(np.ceil(HEAD_SHARE * len(self.counts))))
        cut = np.sort(self.counts)[::-1][n_head - 1]
        return self.counts < cut

    @classmethod
    def from_matrix(cls, train: sp.spmatrix) -> Popularity:
        """From the binary user x item matrix of the real training split."""
        return cls(counts=np.asarray(train.sum(axis=0), dtype=np.float64).ravel(), n_users=int(train.shape[0]))


def per_user_beyond(
    top: np.ndarray, popularity: Popularity, ks: tuple[int, ...], metrics: tuple[str, ...] = PER_USER_BEYOND
) -> dict[tuple[str, int], np.ndarray]:
    """{(metric, k): per-user values} for the per-user beyond-accuracy metrics."""
    item_values = {
        "avg_pop": popularity.counts,
        "novelty": popularity.self_information,
        "tail": popularity.tail.astype(np.float64),
    }
    out: dict[tuple[str, int], np.ndarray] = {}
    for name in metrics:
        looked_up = item_values[name][top] if top.size else np.zeros(top.shape)
        for k in ks:
            out[(name, k)] = looked_up[:, :k].mean(axis=1) if top.shape[0] else np.zeros(0)
    return out


def item_coverage(top: np.ndarray, n_items: int) -> float:
    """Share of the ``n_items`` catalog recommended to at least one user."""
    return float(len(np.unique(top)) / n_items) if n_items else 0.0


def gini_index(top: np.ndarray, n_items: int) -> float:
    """Gini index of recommendation counts over the whole catalog (never-recommended items count as 0)."""
    counts = np.sort(np.bincount(top.ravel(), minlength=n_items)).astype(np.float64)
    total = counts.sum()
    if total == 0 or n_items == 0:
        return 0.0
    ranks = np.arange(1, n_items + 1)
    return float(((2 * ranks - n_items - 1) * counts).sum() / (n_items * total))


def list_metrics(
    top: np.ndarray, n_items: int, ks: tuple[int, ...], metrics: tuple[str, ...] = LIST_METRICS
) -> dict[tuple[str, int], float]:
    """{(metric, k): value} for the list-level metrics of one set of users' top lists."""
    fns = {"coverage": item_coverage, "gini": gini_index}
    return {(name, k): fns[name](top[:, :k], n_items) for name in metrics for k in ks}


def with_beyond_metrics(
    metrics: UserMetrics, popularity: Popularity, ks: tuple[int, ...], names: tuple[str, ...] = PER_USER_BEYOND
) -> UserMetrics:
    """A copy of ``metrics`` whose ``values`` also hold the per-user beyond-accuracy metrics in ``names``."""
    wanted = tuple(name for name in names if name in PER_USER_BEYOND)
    if not wanted:
        return metrics
    return replace(metrics, values={**metrics.values, **per_user_beyond(metrics.top, popularity, ks, wanted)})
