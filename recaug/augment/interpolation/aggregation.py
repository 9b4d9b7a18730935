"""``aggregation``: data aggregation, the mean of a cluster of similar users as one virtual user.

Each target user (in a seeded random order) anchors a cluster of itself and its ``cluster_size - 1`` most
similar users (cosine on training vectors). The cluster's mean vector says how many members have each item;
items held by at least ``threshold`` of the members become the virtual user's interactions, with that share as
the confidence. One virtual user per anchor; the budget may not be reached when clusters agree on few items.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Unpack

import numpy as np

from recaug.augment.base import AugmentOptions, Target, register
from recaug.augment.interpolation.virtual import Draft, VirtualUserAugmenter, similar_users
from recaug.augment.ranking import index_mask
from recaug.core.params import Constraint, Interval


@register
class AggregationAugmenter(VirtualUserAugmenter):
    """Adds one virtual user per target user: the thresholded mean of its cluster of similar users."""

    name = "aggregation"
    description = "Aggregation: virtual users = thresholded mean of a cluster of similar users"
    family = "synthesis"

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "cluster_size": [Interval(int, 2, None)],
        "threshold": [Interval(float, 0.0, 1.0)],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        cluster_size: int = 10,
        threshold: float = 0.3,
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.cluster_size = cluster_size
        self.threshold = threshold

    def _drafts(self, target: Target, rng: np.random.Generator) -> Iterator[Draft]:
        matrix = self.train_.matrix
        neighbours = similar_users(matrix, target.users, self.cluster_size - 1)
        allowed = index_mask(self.train_.n_items, target.items)
        for position in rng.permutation(len(target.users)):
            members = np.concatenate([[target.users[position]], neighbours[position]])
            share = np.asarray(matrix[members].mean(axis=0)).ravel()
            keep = (share >= self.threshold) & allowed
            yield np.flatnonzero(keep), share[keep]

    def _supply_note(self, users: int, rows: int, target: Target) -> str:
        return (
            f"it makes one virtual user per targeted user ({len(target.users):,}), holding the items at least "
            f"{self.threshold:.0%} of its {self.cluster_size}-user cluster share: {rows:,} rows in all; a lower "
            "threshold gives more"
        )
