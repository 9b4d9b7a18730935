"""One epoch of BPR training triples, shared by every model trained with the pairwise BPR loss.

Sampling is vectorised: membership of (user, item) in the training matrix is a binary search over sorted
``user * n_items + item`` keys, not sparse fancy indexing, so an epoch of 5M positives samples in about a second.

Fixed negatives (``negatives``, e.g. LLMRec's LLM-chosen "disliked" items): for a triple whose user has fixed
negatives, the negative is drawn uniformly from them with probability ``fixed_share`` (default 0.5), otherwise
uniformly from the catalog as usual. Fixed negatives that are training positives are dropped. Without
``negatives`` the random stream is exactly the uniform sampler's, so results do not change.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

FIXED_NEGATIVE_SHARE = 0.5


def interaction_keys(matrix: sp.csr_matrix) -> np.ndarray:
    """Sorted int64 keys ``user * n_items + item`` of the stored entries of ``matrix``."""
    csr = matrix.tocsr()
    if not csr.has_canonical_format:
        csr = csr.copy()
        csr.sum_duplicates()
    owners = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
    return owners * csr.shape[1] + csr.indices.astype(np.int64)


def contains(keys: np.ndarray, users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    """Boolean: is each (user, item) pair among ``keys`` (from :func:`interaction_keys`).

    The queries are sorted first: a binary search with sorted queries walks the keys in order and stays in cache,
    where random queries miss it at every level (measured on 8M keys and 8M queries: 1.0 s including the sort,
    against 9-12 s unsorted).
    """
    if len(keys) == 0:
        return np.zeros(len(users), dtype=bool)
    query = users.astype(np.int64) * n_items + items.astype(np.int64)
    order = np.argsort(query)
    ordered = query[order]
    where = np.minimum(np.searchsorted(keys, ordered), len(keys) - 1)
    found = np.empty(len(query), dtype=bool)
    found[order] = keys[where] == ordered
    return found


class BPRSampler:
    """Precomputes the training positives and membership keys once per fit; :meth:`epoch` yields batches."""

    def __init__(
        self,
        train: sp.csr_matrix,
        negatives: sp.csr_matrix | None = None,
        fixed_share: float = FIXED_NEGATIVE_SHARE,
    ) -> None:
        coo = train.tocoo()
        self.n_items = train.shape[1]
        self.users = coo.row.astype(np.int64)
        self.items = coo.col.astype(np.int64)
        self.keys = interaction_keys(train)
        self.fixed_share = fixed_share
        self.fixed: sp.csr_matrix | None = None
        if negatives is not None and negatives.nnz:
            fixed = negatives.tocsr().astype(bool).astype(np.float32)
            fixed = fixed - fixed.multiply(train.astype(bool).astype(np.float32))  # never a training positive
            fixed.eliminate_zeros()
            self.fixed = fixed.tocsr() if fixed.nnz else None

    def uniform_negatives(self, users: np.ndarray, rng: np.random.Generator, tries: int = 5) -> np.ndarray:
        """Uniform negatives that are not in the user's training row (a few rejection rounds)."""
        neg = rng.integers(0, self.n_items, size=len(users))
        pending = np.arange(len(users))  # only redrawn negatives can clash again: check just those
        for _ in range(tries):
            pending = pending[contains(self.keys, users[pending], neg[pending], self.n_items)]
            if not len(pending):
                break
            neg[pending] = rng.integers(0, self.n_items, size=len(pending))
        return neg

    def with_fixed_negatives(self, users: np.ndarray, neg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Replace a ``fixed_share`` of the negatives of users with fixed negatives by one of theirs."""
        if self.fixed is None:
            return neg
        indptr = self.fixed.indptr
        counts = np.diff(indptr)[users]
        eligible = np.flatnonzero(counts > 0)
        take = eligible[rng.random(len(eligible)) < self.fixed_share]
        offsets = (rng.random(len(take)) * counts[take]).astype(np.int64)
        neg = neg.copy()
        neg[take] = self.fixed.indices[indptr[users[take]] + offsets]
        return neg

    def epoch(self, rng: np.random.Generator, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(users, positive items, negative items) batches covering every training positive once.

        The order and the negatives come from ``rng``, so one seed gives one sequence of batches.
        """
        order = rng.permutation(len(self.users))
        users = self.users[order]
        negatives = self.with_fixed_negatives(users, self.uniform_negatives(users, rng), rng)
        items = self.items[order]
        for start in range(0, len(order), batch_size):
            end = start + batch_size
            yield users[start:end], items[start:end], negatives[start:end]


def bpr_batches(
    train: sp.csr_matrix, rng: np.random.Generator, batch_size: int, negatives: sp.csr_matrix | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """One epoch of :class:`BPRSampler` batches (build the sampler once per fit when running many epochs)."""
    return BPRSampler(train, negatives).epoch(rng, batch_size)
