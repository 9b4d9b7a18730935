"""Item-based k-nearest-neighbours with cosine similarity (RecBole's ItemKNN)."""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from recaug.models.base import FitContext, Recommender, register


def top_k_per_column(sim: np.ndarray, k: int) -> np.ndarray:
    """Keep the ``k`` largest entries of each column, zero the rest."""
    if k >= sim.shape[0]:
        return sim
    cut = np.argpartition(-sim, k - 1, axis=0)[:k]
    pruned = np.zeros_like(sim)
    cols = np.broadcast_to(np.arange(sim.shape[1]), cut.shape)
    pruned[cut, cols] = sim[cut, cols]
    return pruned


@register
class ItemKNN(Recommender):
    """score(u, j) = sum over the user's items i of cos(i, j), keeping each item's ``k`` nearest neighbours."""

    name = "itemknn"
    description = "Item kNN, cosine similarity"

    def __init__(self, *, seed: int = 0, k: int = 100, shrink: float = 0.0) -> None:
        super().__init__(seed=seed)
        self.k = k
        self.shrink = shrink

    def _fit(self, train: sp.csr_matrix, valid: sp.csr_matrix | None, context: FitContext) -> Self:
        x = train.astype(np.float32).tocsc()
        co = (x.T @ x).toarray()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
        sim = co / (np.outer(norms, norms) + self.shrink + 1e-8)
        np.fill_diagonal(sim, 0.0)
        self.similarity_ = top_k_per_column(sim.astype(np.float32), self.k)
        self.train_ = train.tocsr()
        return self

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        return np.asarray(self.train_[user_indices] @ self.similarity_, dtype=np.float32)
