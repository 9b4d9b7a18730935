"""``edge-dropout``: REMOVES random training edges, the negative control.

Instead of adding rows it returns ``AugmentResult.removed``: ``budget`` random training edges of the target
users (each user keeps at least ``min_keep``), which the experiment drops from the augmented training matrix.
If a method does no better than losing the same number of real edges, its synthetic rows carry no signal.
"""

from __future__ import annotations

from typing import ClassVar, Unpack

import numpy as np
import pandas as pd

from recaug.augment.base import Augmenter, AugmentOptions, Target, register
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn
from recaug.data.schema import CONFIDENCE, ITEM, USER


@register
class EdgeDropoutAugmenter(Augmenter):
    """Removes ``budget`` random training edges of the target users (adds nothing)."""

    name = "edge-dropout"
    description = "Removes random training edges (negative control: the same budget of real edges, lost)"
    family = "heuristic"

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "min_keep": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        min_keep: int = 1,
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.min_keep = min_keep

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        rows = self.train_.interactions
        rows = rows[np.isin(rows["user_idx"].to_numpy(), target.users)]
        order = rng.permutation(len(rows))
        users = rows["user_idx"].to_numpy()[order]
        rank = pd.Series(users).groupby(users).cumcount().to_numpy()
        degree = np.bincount(users, minlength=self.train_.n_users)[users]
        eligible = order[rank < degree - self.min_keep]  # in random order; each user keeps min_keep edges
        chosen = eligible[:budget]  # kept in random order, so any prefix is a uniform sample too
        self.removed_ = rows.iloc[chosen][[USER, ITEM]].reset_index(drop=True)
        self.info_["removal_requested"] = budget
        # How many edges could go at all, so a shortfall explains itself (light users have few edges to spare).
        self.info_["removable"] = len(eligible)
        if len(eligible) < budget:
            self.info_["supply_note"] = (
                f"only {len(eligible):,} training edges of the targeted users can go while each user keeps at "
                f"least {self.min_keep} (min_keep)"
            )
        progress(1.0, f"edge-dropout: removing {len(chosen)} training edges")
        return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE])
