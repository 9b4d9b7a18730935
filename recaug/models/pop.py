"""Most-popular baseline: the floor every personalised model must clear."""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from recaug.models.base import FitContext, Recommender, register


@register
class Pop(Recommender):
    """Scores every item by its training popularity, the same for every user."""

    name = "pop"
    description = "Most popular items (non-personalised baseline)"
    deterministic = True

    def _fit(self, train: sp.csr_matrix, valid: sp.csr_matrix | None, context: FitContext) -> Self:
        self.popularity_ = np.asarray(train.sum(axis=0), dtype=np.float32).ravel()
        return self

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (len(user_indices), len(self.popularity_))).copy()
