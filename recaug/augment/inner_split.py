"""An inner validation split carved from the TRAINING split, for augmenters that must tune or weight themselves.

Augmenters never see the real validation or test parts, so anything they learn "on validation" (the ensemble's
member weights and its stacking model) is learned on held-out training edges instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.data.dataset import TrainingData


def csr_from_pairs(users: np.ndarray, items: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """Binary CSR matrix with ones at (users, items)."""
    mat = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)), shape=shape)
    mat.sum_duplicates()
    mat.data[:] = 1.0
    return mat


def inner_split(train: TrainingData, fraction: float = 0.1, seed: int = 0) -> tuple[TrainingData, sp.csr_matrix]:
    """Hold out ``round(fraction * degree)`` random training edges per user (each user keeps at least one).

    Returns the inner training view (same id maps and catalog) and the held-out edges as a CSR matrix.
    """
    rows = train.interactions
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    users = rows["user_idx"].to_numpy()[order]
    rank = pd.Series(users).groupby(users).cumcount().to_numpy()
    degree = np.bincount(users, minlength=train.n_users)[users]
    n_held = np.minimum(np.floor(degree * fraction + 0.5).astype(int), degree - 1)
    held = np.zeros(len(rows), dtype=bool)
    held[order] = rank < n_held
    shape = (train.n_users, train.n_items)
    inner_rows = rows[~held].reset_index(drop=True)
    inner = TrainingData(
        interactions=inner_rows,
        items=train.items,
        user_ids=train.user_ids,
        item_ids=train.item_ids,
        matrix=csr_from_pairs(inner_rows["user_idx"].to_numpy(), inner_rows["item_idx"].to_numpy(), shape),
    )
    valid = csr_from_pairs(rows["user_idx"].to_numpy()[held], rows["item_idx"].to_numpy()[held], shape)
    return inner, valid
