"""An example recaug plug-in: an augmenter and a model that recaug finds through entry points.

Neither class is registered here: the ``recaug.augmenters`` / ``recaug.models`` entry points in pyproject.toml
name them, and recaug's registries load them on first use. Their ``name`` must equal the entry point's name.
"""

from __future__ import annotations

from typing import ClassVar, Self, Unpack

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.augment.base import Augmenter, AugmentOptions
from recaug.augment.targets import Target
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn
from recaug.data.schema import CONFIDENCE, ITEM, USER
from recaug.models.base import FitContext, Recommender


class ColdestItems(Augmenter):
    """Gives target users random items from the least popular ``share`` of the target items."""

    name = "example-coldest"
    description = "Example plug-in: random items from the least popular share of the catalog"
    family = "heuristic"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "share": [Interval(float, 0.0, 1.0, closed="right")]
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        share: float = 0.1,
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.share = share

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        popularity = self.train_.item_popularity()[target.items]
        coldest = target.items[np.argsort(popularity, kind="stable")[: max(1, int(len(target.items) * self.share))]]
        n_draw = int(budget * 1.5) + 32  # the base drops seen and duplicate pairs
        users = rng.choice(target.users, size=n_draw)
        items = rng.choice(coldest, size=n_draw)
        return pd.DataFrame(
            {
                USER: self.train_.user_ids.to_numpy()[users],
                ITEM: self.train_.item_ids.to_numpy()[items],
                CONFIDENCE: 0.3,
            }
        )


class Cooccurrence(Recommender):
    """Scores an item by how often it co-occurs with the user's training items."""

    name = "example-cooccurrence"
    description = "Example plug-in: item co-occurrence counts"

    def _fit(self, train: sp.csr_matrix, valid: sp.csr_matrix | None, context: FitContext) -> Self:
        binary = (train > 0).astype(np.float32).tocsr()
        cooccurrence = (binary.T @ binary).tolil()
        cooccurrence.setdiag(0)
        self.train_ = binary
        self.cooccurrence_ = cooccurrence.tocsr()
        return self

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        return np.asarray((self.train_[user_indices] @ self.cooccurrence_).todense(), dtype=np.float32)
