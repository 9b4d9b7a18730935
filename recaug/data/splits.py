"""Split protocols, each a named function (interactions, seed) -> Split.

Later protocols (temporal, leave-last-out, cold-items, cold-users) register here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recaug.data.schema import ITEM, USER
from recaug.registry import Registry


@dataclass(frozen=True)
class Split:
    """Three disjoint parts of the real interactions. Synthetic rows never enter valid/test."""

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    protocol: str
    seed: int

    def table(self) -> pd.DataFrame:
        """user_id,item_id,part for auditing a run."""
        parts = [part.assign(part=name)[[USER, ITEM, "part"]] for name, part in
                 (("train", self.train), ("valid", self.valid), ("test", self.test))]
        return pd.concat(parts, ignore_index=True)


SplitFn = Callable[[pd.DataFrame, int], Split]
SPLITS: Registry[SplitFn] = Registry("split protocol")


def _per_user_ratio(interactions: pd.DataFrame, seed: int, valid: float, test: float) -> np.ndarray:
    """Part label per row (0 train, 1 valid, 2 test) from a per-user random order.

    Counts follow RecBole: n_test = round(n * test), n_valid = round(n * valid),
    but a user always keeps at least one training row.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(interactions))
    users = interactions[USER].to_numpy()[order]
    rank = pd.Series(np.arange(len(order))).groupby(users).cumcount().to_numpy()
    sizes = pd.Series(users).map(pd.Series(users).value_counts()).to_numpy()
    n_test = np.floor(sizes * test + 0.5).astype(int)
    n_valid = np.floor(sizes * valid + 0.5).astype(int)
    overflow = np.maximum(n_test + n_valid - (sizes - 1), 0)
    n_valid = np.maximum(n_valid - overflow, 0)
    n_test = np.minimum(n_test, sizes - 1 - n_valid)
    part_sorted = np.where(rank < sizes - n_valid - n_test, 0, np.where(rank < sizes - n_test, 1, 2))
    part = np.empty(len(order), dtype=np.int8)
    part[order] = part_sorted
    return part


@SPLITS.register("random-811")
def split_random_811(interactions: pd.DataFrame, seed: int) -> Split:
    """Per-user random 80/10/10 (RecBole's default protocol)."""
    part = _per_user_ratio(interactions, seed, valid=0.1, test=0.1)
    return Split(
        train=interactions[part == 0].reset_index(drop=True),
        valid=interactions[part == 1].reset_index(drop=True),
        test=interactions[part == 2].reset_index(drop=True),
        protocol="random-811",
        seed=seed,
    )


def make_split(interactions: pd.DataFrame, protocol: str, seed: int) -> Split:
    """Run the named protocol (raises RecaugInputError for unknown names)."""
    return SPLITS.get(protocol)(interactions, seed)
