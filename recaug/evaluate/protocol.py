"""Score every test user with one model, rank once with seen items excluded, return per-user metrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recaug.evaluate.metrics import DEFAULT_KS, DEFAULT_METRICS, per_user_metrics, rank_top_k
from recaug.models.base import Recommender


@dataclass(frozen=True)
class UserMetrics:
    """Per-user metric values for the users with at least one relevant item."""

    users: np.ndarray  # user indices
    values: dict[tuple[str, int], np.ndarray]
    top: np.ndarray  # top-max(k) item indices per user, for beyond-accuracy metrics


def evaluate_model(
    model: Recommender,
    target: sp.csr_matrix,
    exclude: sp.csr_matrix,
    *,
    ks: tuple[int, ...] = DEFAULT_KS,
    metrics: tuple[str, ...] = DEFAULT_METRICS,
    batch_size: int = 2048,
) -> UserMetrics:
    """Full ranking over all items for users with targets; ``exclude`` (train [+ valid]) is never ranked.

    ``target`` and ``exclude`` have the real users' rows only; virtual users are never evaluated.
    """
    users = np.flatnonzero(np.diff(target.indptr) > 0)
    k_max = max(ks)
    tops = []
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        scores = np.asarray(model.score(batch), dtype=np.float32)
        tops.append(rank_top_k(scores, exclude[batch], k_max))
    top = np.vstack(tops) if tops else np.zeros((0, k_max), dtype=np.int64)
    values = per_user_metrics(top, target[users], ks, metrics)
    return UserMetrics(users=users, values=values, top=top)


def mean_metric(model: Recommender, target: sp.csr_matrix, exclude: sp.csr_matrix, metric: str, k: int) -> float:
    """One averaged number, e.g. validation NDCG@10 for early stopping."""
    result = evaluate_model(model, target, exclude, ks=(k,), metrics=(metric,))
    values = result.values[(metric, k)]
    return float(values.mean()) if len(values) else 0.0
