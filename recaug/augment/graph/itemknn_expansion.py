"""``itemknn-expansion``: co-occurrence neighbours of the items a user already has.

An item-kNN (cosine over the training matrix, each item's ``neighbours`` nearest kept) scores unseen items by
their summed similarity to the user's history; only items that co-occur with at least one history item can be
proposed. It is the classic "people who watched X also watched Y" expansion.
"""

from __future__ import annotations

from typing import ClassVar, Unpack

import numpy as np
import pandas as pd

from recaug.augment.base import Augmenter, AugmentOptions, Target, register
from recaug.augment.ranking import top_unseen_rows
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn
from recaug.data.dataset import TrainingData
from recaug.models.itemknn import ItemKNN


@register
class ItemKNNExpansionAugmenter(Augmenter):
    """Adds each target user's highest co-occurrence neighbours of their training items."""

    name = "itemknn-expansion"
    description = "Item-kNN expansion: unseen co-occurrence neighbours of each user's items"
    family = "heuristic"

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "neighbours": [Interval(int, 1, None)],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        neighbours: int = 100,
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.neighbours = neighbours

    def _fit(self, train: TrainingData) -> None:
        self.knn_ = ItemKNN(seed=self.seed, k=self.neighbours).fit(train.matrix)

    def _neighbour_scores(self, users: np.ndarray) -> np.ndarray:
        scores = self.knn_.score(users)
        return np.where(scores > 0, scores, -np.inf)  # no co-occurrence with the history: never proposed

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        return top_unseen_rows(
            self.train_,
            target,
            self._neighbour_scores,
            budget,
            progress=progress,
            message="expanding users with co-occurring items",
        )
