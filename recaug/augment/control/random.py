"""``random``: uniformly random unseen user-item pairs, the control every method must beat."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recaug.augment.base import Augmenter, Target, register
from recaug.core.progress import ProgressFn
from recaug.data.schema import CONFIDENCE, ITEM, USER


@register
class RandomAugmenter(Augmenter):
    """Adds random unseen (user, item) pairs among the target users and items, confidence 0.5."""

    name = "random"
    description = "Uniformly random unseen user-item pairs (the control every method must beat)"
    family = "heuristic"

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        train = self.train_
        # Oversample: some draws are already seen or duplicated; base cleaning removes them.
        n_draw = int(budget * 1.5) + 32
        users = rng.choice(target.users, size=n_draw)
        items = rng.choice(target.items, size=n_draw)
        return pd.DataFrame(
            {
                USER: train.user_ids.to_numpy()[users],
                ITEM: train.item_ids.to_numpy()[items],
                CONFIDENCE: 0.5,
            }
        )
