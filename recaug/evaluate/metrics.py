"""Full-ranking top-k metrics, vectorised over users.

``rank_top_k`` excludes already-seen items once, here, for every model. Metric
functions take a boolean hit matrix (users x k, True where the ranked item is
relevant) and the number of relevant items per user, and return per-user values
so significance tests can pair users.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

MetricFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def rank_top_k(scores: np.ndarray, exclude: sp.csr_matrix, k: int) -> np.ndarray:
    """Indices of the top-``k`` items per row, best first, with ``exclude``'s items never ranked."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    rows, cols = exclude.nonzero()
    scores[rows, cols] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    # Stable tie-break on item index keeps results identical across runs.
    order = np.lexsort((part, -part_scores), axis=1)
    return np.take_along_axis(part, order, axis=1)


def hit_matrix(top: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """Boolean (users x k): is the item at each rank in the user's relevant set."""
    rows = np.repeat(np.arange(top.shape[0]), top.shape[1])
    return np.asarray(relevant[rows, top.ravel()]).reshape(top.shape) > 0


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
