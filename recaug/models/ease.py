"""EASE (Steck, 2019): a closed-form item-item linear autoencoder, the baseline augmentation claims must beat."""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recaug.core.errors import RecaugInputError
from recaug.core.params import Constraint, Interval
from recaug.models.base import VALID_SCORE, FitContext, Recommender, register

log = logging.getLogger(__name__)

# Peak bytes per item**2 while fitting: the float64 Gram matrix, its regularised copy, the inverse (with LAPACK's
# work space) and two float32 weight matrices (current and best): 8 + 8 + 8 + 8 + 4 + 4 = 40.
BYTES_PER_ITEM_PAIR = 40
MEMORY_SHARE = 0.7  # of the memory available when fitting starts


def ease_item_limit(available_bytes: int | None = None) -> int:
    """The largest catalog EASE can fit in ``MEMORY_SHARE`` of the available memory (default: measured now)."""
    if available_bytes is None:
        import psutil

        available_bytes = int(psutil.virtual_memory().available)
    return int(np.sqrt(MEMORY_SHARE * available_bytes / BYTES_PER_ITEM_PAIR))


def ease_weights(gram: np.ndarray, reg: float) -> np.ndarray:
    """B = I - P / diag(P) with P = (G + reg I)^-1, diagonal forced to zero (the EASE closed form), float32.

    P comes from a Cholesky factorisation (LAPACK ``potrf`` + ``potri``: about n^3 flops, half of the LU inverse
    RecBole's EASE takes, ``np.linalg.inv``), in float32 like RecBole's: G + reg I with reg >= 1 is well
    conditioned. Why: the L2 grid inverts once per value, so each inverse costs about half of RecBole's single fit.
    """
    from scipy.linalg import lapack

    regularised = np.array(gram, dtype=np.float32, order="F", copy=True)
    regularised[np.diag_indices_from(regularised)] += np.float32(reg)
    factor, info = lapack.spotrf(regularised, lower=True, overwrite_a=True, clean=False)
    if info == 0:
        precision, info = lapack.spotri(factor, lower=True, overwrite_c=True)
    if info != 0:  # not positive definite (reg tiny for this data): the general inverse still exists
        precision = np.linalg.inv(gram.astype(np.float64) + reg * np.eye(len(gram))).astype(np.float32)
    else:
        lower = np.tril(precision)
        precision = lower + np.tril(lower, -1).T  # potri fills one triangle
    precision /= -np.diag(precision)
    np.fill_diagonal(precision, 0.0)
    return np.ascontiguousarray(precision, dtype=np.float32)


@register
class EASE(Recommender):
    """score(u) = x_u B. With validation data, ``reg`` is chosen from ``reg_grid`` by validation NDCG@10.

    ``reg_grid=()`` (or no validation) uses ``reg`` as given; the default grid spans RecBole's default (250).
    ``max_items``: refuse catalogs above this size; 0 (default) derives the limit from the memory available
    (:func:`ease_item_limit`: about 40 bytes per item pair), so EASE is refused up front instead of being killed.
    """

    name = "ease"
    description = "EASE item-item linear autoencoder (closed form), L2 chosen on validation"
    selects_on_validation = True

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "reg": [Interval(float, 0.0, None, closed="neither")],
        "reg_grid": [tuple, list],
        "max_items": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        reg: float = 250.0,
        reg_grid: tuple[float, ...] = (50.0, 100.0, 250.0, 500.0, 1000.0),
        max_items: int = 0,
    ) -> None:
        super().__init__(seed=seed)
        self.reg = reg
        self.reg_grid = reg_grid
        self.max_items = max_items

    def check_size(self, n_users: int, n_items: int, n_interactions: int | None = None) -> None:
        """Refuse, with what to do instead, a catalog whose dense item x item matrices do not fit in memory."""
        limit = self.max_items or ease_item_limit()
        if n_items > limit:
            need = BYTES_PER_ITEM_PAIR * n_items**2 / 1e9
            raise RecaugInputError(
                f"EASE needs dense {n_items:,} x {n_items:,} matrices (about {need:.0f} GB) and this machine can "
                f"hold about {limit:,} items",
                fix=f"keep the {limit:,} most popular items (a k-core filter, --kcore), or use als, bpr or itemknn, "
                "which stay sparse",
            )

    def _fit(self, train: sp.csr_matrix, valid: sp.csr_matrix | None, context: FitContext) -> Self:
        from recaug.evaluate.protocol import selection_score

        x = train.astype(np.float32).tocsr()
        gram = (x.T @ x).toarray()
        self.train_ = train.tocsr().astype(np.float32)
        candidates = list(self.reg_grid) if (valid is not None and valid.nnz and self.reg_grid) else [self.reg]
        self.valid_ndcg_: dict[float, float] = {}
        best = -1.0
        for step, reg in enumerate(candidates):
            self.weights_ = ease_weights(gram, float(reg))
            if len(candidates) > 1:
                score = selection_score(self, valid, context.valid_exclude, seed=self.seed)
                self.valid_ndcg_[float(reg)] = score
                context.report((step + 1) / len(candidates), f"EASE reg {reg:g}: valid NDCG@10 {score:.4f}")
                if score > best:
                    best, best_weights, self.reg_ = score, self.weights_, float(reg)
        if len(candidates) > 1:
            self.weights_ = best_weights
        else:
            self.reg_ = float(candidates[0])
        log.debug("EASE chose reg %s (%s)", self.reg_, self.valid_ndcg_)
        return self

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        return np.asarray(self.train_[np.asarray(user_indices)] @ self.weights_, dtype=np.float32)

    def selection(self) -> dict[str, Any]:
        """The L2 chosen from ``reg_grid`` and its validation NDCG@10 (empty where no grid was searched)."""
        if not getattr(self, "valid_ndcg_", None):
            return {}
        return {"reg": self.reg_, VALID_SCORE: float(self.valid_ndcg_[self.reg_])}
