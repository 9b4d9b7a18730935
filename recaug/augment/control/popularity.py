"""``popularity``: popularity-weighted unseen items, the "just add blockbusters" baseline.

Each target user draws unseen target items without replacement with probability proportional to
``(popularity + 1) ** alpha`` (Gumbel top-k sampling, seeded). A method that cannot beat this is adding
popularity bias, not personal signal.
"""

from __future__ import annotations

from typing import ClassVar, Unpack

import numpy as np
import pandas as pd

from recaug.augment.base import Augmenter, AugmentOptions, Target, register
from recaug.augment.ranking import top_unseen_rows
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn


@register
class PopularityAugmenter(Augmenter):
    """Adds unseen items sampled in proportion to their training popularity; confidence = relative popularity."""

    name = "popularity"
    description = "Popularity-weighted random unseen items (a bias-only baseline)"
    family = "heuristic"

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "alpha": [Interval(float, None, None)],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        alpha: float = 1.0,
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.alpha = alpha

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        popularity = self.train_.item_popularity()
        logits = self.alpha * np.log1p(popularity)
        relative = popularity / max(popularity.max(), 1.0)

        def gumbel_scores(users: np.ndarray) -> np.ndarray:
            return logits[None, :] + rng.gumbel(size=(len(users), len(logits)))

        def confidence(users: np.ndarray, scores: np.ndarray, chosen: np.ndarray) -> np.ndarray:
            return relative[chosen]

        return top_unseen_rows(
            self.train_,
            target,
            gumbel_scores,
            budget,
            confidence_fn=confidence,
            progress=progress,
            message="sampling popular unseen items",
        )
