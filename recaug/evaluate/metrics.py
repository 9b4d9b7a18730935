"""Full-ranking top-k metrics, vectorised over users.

``rank_top_k`` excludes already-seen items once, here, for every model. Metric
functions take a boolean hit matrix (users x k, True where the ranked item is
relevant) and the number of relevant items per user, and return per-user values
so significance tests can pair users.

Tie rule (one rule everywhere, including at the cut-off): items are ordered by score, highest first, and items
with equal scores by item index, lowest first. So when several items tie for the last places of a top-k, the
lowest-indexed ones get in. NaN scores rank below every other score.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

MetricFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def rank_top_k(scores: np.ndarray, exclude: sp.csr_matrix, k: int) -> np.ndarray:
    """Indices of the top-``k`` items per row, best first, with ``exclude``'s items never ranked.

    Ties follow the module's rule: equal scores are ordered by item index, lowest first, also at the cut-off.
    """
    return _ranked(np.asarray(scores, dtype=np.float32), exclude.tocsr(), k)


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of each row's ``k`` highest scores, best first, ties by lower index (the module's rule).

    The same order as ``np.argsort(-scores, kind="stable")[:, :k]`` at a fraction of its cost. ``scores`` is not
    modified; float64 scores are compared as float64.
    """
    scores = np.asarray(scores)
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    return _ranked(scores, sp.csr_matrix((scores.shape[0], scores.shape[1]), dtype=np.float32), k)


def _ranked(scores: np.ndarray, exclude: sp.csr_matrix, k: int) -> np.ndarray:
    """The one implementation of the rule: a compiled scan per row (:mod:`recaug.evaluate.top_k_kernel`)."""
    from recaug.evaluate.top_k_kernel import top_k_excluding

    k = max(0, min(k, scores.shape[1]))
    # One signature per score dtype (numba compiles each once): int64 positions, a boolean "excluded" per entry.
    indptr, indices = exclude.indptr.astype(np.int64, copy=False), exclude.indices.astype(np.int64, copy=False)
    return top_k_excluding(np.ascontiguousarray(scores), indptr, indices, exclude.data != 0, k)


def hit_matrix(top: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """Boolean (users x k): is the item at each rank in the user's relevant set.

    A sorted-key lookup (user * n_items + item) instead of sparse fancy indexing, which is slow for many users.
    """
    relevant = relevant.tocsr()
    if not relevant.has_canonical_format:  # sorted, unique indices make the keys below sorted
        relevant = relevant.copy()
        relevant.sum_duplicates()
    n_items = relevant.shape[1]
    owners = np.repeat(np.arange(relevant.shape[0], dtype=np.int64), np.diff(relevant.indptr))
    keys = (owners * n_items + relevant.indices.astype(np.int64))[relevant.data > 0]
    if len(keys) == 0:
        return np.zeros(top.shape, dtype=bool)
    query = (np.arange(top.shape[0], dtype=np.int64)[:, None] * n_items + top).ravel()
    where = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return (keys[where] == query).reshape(top.shape)


def recall(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    return hits.sum(axis=1) / np.maximum(n_relevant, 1)


def precision(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    return hits.sum(axis=1) / hits.shape[1]


def hit_rate(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    return hits.any(axis=1).astype(float)


def ndcg(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    discounts = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    dcg = (hits * discounts).sum(axis=1)
    ideal_len = np.minimum(n_relevant, hits.shape[1])
    idcg = np.cumsum(discounts)[np.maximum(ideal_len, 1) - 1]
    return np.where(n_relevant > 0, dcg / idcg, 0.0)


def mrr(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    first = hits.argmax(axis=1)
    return np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)


def average_precision(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """MAP@k with RecBole's normaliser min(|relevant|, k)."""
    cum_hits = np.cumsum(hits, axis=1)
    ranks = np.arange(1, hits.shape[1] + 1)
    precision_at = cum_hits / ranks
    denom = np.maximum(np.minimum(n_relevant, hits.shape[1]), 1)
    return (precision_at * hits).sum(axis=1) / denom


ACCURACY_METRICS: dict[str, MetricFn] = {
    "recall": recall,
    "ndcg": ndcg,
    "precision": precision,
    "hit": hit_rate,
    "mrr": mrr,
    "map": average_precision,
}
DEFAULT_METRICS = ("recall", "ndcg", "precision", "hit")
DEFAULT_KS = (10, 20)


def per_user_metrics(
    top: np.ndarray, relevant: sp.csr_matrix, ks: tuple[int, ...], metrics: tuple[str, ...] = DEFAULT_METRICS
) -> dict[tuple[str, int], np.ndarray]:
    """{(metric, k): per-user values} from a ranking computed once at max(ks)."""
    n_relevant = np.diff(relevant.indptr)
    hits_full = hit_matrix(top, relevant)
    out: dict[tuple[str, int], np.ndarray] = {}
    for k in ks:
        hits = hits_full[:, :k]
        for name in metrics:
            out[(name, k)] = ACCURACY_METRICS[name](hits, n_relevant)
    return out
