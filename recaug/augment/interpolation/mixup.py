"""``mixup``: data synthesis by interpolating two similar users (X_new = lambda X1 + (1 - lambda) X2).

For a target user u and a partner v drawn from u's ``neighbours`` most similar users (cosine on training
vectors), the virtual user's vector is ``lambda * x_u + (1 - lambda) * x_v`` with ``lambda ~ Beta(alpha, alpha)``.
Binary vectors make a fixed 0.5 threshold degenerate (it would copy one parent), so it is thresholded back to
interactions with a random threshold per item: shared items are always kept, u's own items with probability
lambda, v's with 1 - lambda. Confidence is the interpolated value. Virtual users are new matrix rows.
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
class MixupAugmenter(VirtualUserAugmenter):
    """Adds virtual users interpolated from pairs of similar target users."""

    name = "mixup"
    description = "Mixup: virtual users interpolated from two similar users, thresholded back to interactions"
    family = "synthesis"

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "neighbours": [Interval(int, 1, None)],
        "alpha": [Interval(float, 0.0, None, closed="neither")],
        "max_rounds": [Interval(int, 1, None)],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        neighbours: int = 10,
        alpha: float = 2.0,
        max_rounds: int = 20,
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.neighbours = neighbours
        self.alpha = alpha
        self.max_rounds = max_rounds

    def _drafts(self, target: Target, rng: np.random.Generator) -> Iterator[Draft]:
        matrix = self.train_.matrix
        partners = similar_users(matrix, target.users, self.neighbours)
        allowed = index_mask(self.train_.n_items, target.items)
        if partners.shape[1] == 0:  # a single user has no one to mix with
            return
        for _ in range(self.max_rounds):  # each round mixes every target user once, in a random order
            for position in rng.permutation(len(target.users)):
                lam = rng.beta(self.alpha, self.alpha)
                partner = partners[position, rng.integers(partners.shape[1])]
                own = matrix[target.users[position]].toarray().ravel()
                mixed = lam * own + (1 - lam) * matrix[partner].toarray().ravel()
                keep = (mixed > rng.random(len(mixed))) & allowed
                yield np.flatnonzero(keep), mixed[keep]
