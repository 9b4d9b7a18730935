"""Item-based k-nearest-neighbours with cosine similarity (RecBole's ItemKNN), kept sparse.

Only each item's ``k`` nearest neighbours are stored (a sparse item x item matrix with at most ``k`` entries per
column), and they are computed a block of items at a time, so memory grows with ``n_items * k``, never with
``n_items ** 2``. Ties at the k-th neighbour follow the ranking rule of :mod:`recaug.evaluate.metrics` (lower
item index first). The block's co-occurrences and cosines are compiled loops (:mod:`recaug.models.itemknn_kernel`):
the same bytes as scipy's sparse product, 3-4x faster at 20,000 items.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recaug.core.params import Constraint, Interval
from recaug.evaluate.metrics import rank_top_k
from recaug.models.base import FitContext, Recommender, register

BLOCK_FLOATS = 16_000_000  # dense similarity block: n_items x block floats (64 MB)


def top_k_neighbours(x: sp.csc_matrix, k: int, shrink: float, block: int | None = None) -> sp.csc_matrix:
    """Sparse (items x items) cosine similarities, each column keeping only its ``k`` largest entries."""
    from recaug.models.itemknn_kernel import co_occurrence, cosine_in_place  # numba: compiled when a fit needs it

    n_items = x.shape[1]
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0), dtype=np.float64).ravel())
    x = x.tocsc()
    x.sort_indices()
    by_user = x.tocsr()
    by_user.sort_indices()
    k = min(k, n_items)
    step = block or max(1, BLOCK_FLOATS // max(n_items, 1))
    buffer = np.empty((min(step, n_items), n_items), dtype=np.float32)
    rows, cols, vals = [], [], []
    for start in range(0, n_items, step):
        stop = min(start + step, n_items)
        co = buffer[: stop - start]  # (block items) x (all items): the block's co-occurrences
        co_occurrence(x.indptr, x.indices, x.data, by_user.indptr, by_user.indices, by_user.data, start, co)
        cosine_in_place(co, norms, start, shrink)  # now the block's similarities (float32, 0 to itself)
        top = rank_top_k(co, sp.csr_matrix((stop - start, n_items)), k)
        values = np.take_along_axis(co, top, axis=1)
        rows.append(top.ravel())
        cols.append(np.repeat(np.arange(start, stop), k))
        vals.append(values.ravel())
    similarity = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_items, n_items)
    )
    similarity.eliminate_zeros()
    return similarity


@register
class ItemKNN(Recommender):
    """score(u, j) = sum over the user's items i of cos(i, j), keeping each item's ``k`` nearest neighbours."""

    name = "itemknn"
    description = "Item kNN, cosine similarity (sparse top-k neighbours)"
    deterministic = True

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "k": [Interval(int, 1, None)],
        "shrink": [Interval(float, 0.0, None)],
    }

    def __init__(self, *, seed: int = 0, k: int = 100, shrink: float = 0.0) -> None:
        super().__init__(seed=seed)
        self.k = k
        self.shrink = shrink

    @classmethod
    def warm_up(cls) -> None:
        """Load the compiled co-occurrence loops (numba) now, before a process pool forks."""
        top_k_neighbours(sp.csc_matrix(np.eye(2, dtype=np.float32)), 1, 0.0)

    def _fit(self, train: sp.csr_matrix, valid: sp.csr_matrix | None, context: FitContext) -> Self:
        x = train.astype(np.float32).tocsc()
        self.similarity_ = top_k_neighbours(x, self.k, self.shrink).tocsr()
        self.train_ = train.tocsr().astype(np.float32)
        return self

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        return (self.train_[np.asarray(user_indices)] @ self.similarity_).toarray().astype(np.float32, copy=False)

    def score_history(self, history: sp.csr_matrix) -> np.ndarray:
        """Scores for an unseen user with this (1 x items) history (the what-if page's fold-in)."""
        product = sp.csr_matrix(history, dtype=np.float32) @ self.similarity_
        return product.toarray().ravel()
