"""One epoch of BPR training triples, shared by every model trained with the pairwise BPR loss."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp


def sample_negatives(train: sp.csr_matrix, users: np.ndarray, rng: np.random.Generator, tries: int = 5) -> np.ndarray:
    """Uniform negatives that are not in the user's training row (a few rejection rounds)."""
    n_items = train.shape[1]
    neg = rng.integers(0, n_items, size=len(users))
    for _ in range(tries):
        clash = np.asarray(train[users, neg]).ravel() > 0
        if not clash.any():
            break
        neg[clash] = rng.integers(0, n_items, size=int(clash.sum()))
    return neg


def bpr_batches(
    train: sp.csr_matrix, rng: np.random.Generator, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(users, positive items, negative items) index batches covering every training positive once.

    The order and the negatives come from ``rng``, so one seed gives one sequence of batches.
    """
    coo = train.tocoo()
    pos_users, pos_items = coo.row.astype(np.int64), coo.col.astype(np.int64)
    order = rng.permutation(len(pos_users))
    negatives = sample_negatives(train, pos_users[order], rng)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        yield pos_users[idx], pos_items[idx], negatives[start : start + len(idx)]
