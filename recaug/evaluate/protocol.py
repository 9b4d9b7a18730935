"""Score users with one model in bounded-memory batches, rank once with seen items excluded, return metrics.

Memory never grows with users x items: users are scored ``batch_size`` at a time, and the batch shrinks so one
batch's score matrix stays under ``SCORE_BUDGET`` floats; only each user's top-k is kept.

Model selection (early stopping, tuned grids, EASE's L2, the content model's scale) goes through
:func:`selection_score`: validation NDCG@10 on a fixed, seeded sample of validation users, sized by the scores a
look computes: at most ``SELECTION_USERS`` users and at most ``SELECTION_CELLS`` users x items (never fewer than
``SELECTION_MIN_USERS``; :func:`selection_size`). The sample depends only on the validation matrix and the seed, so
the baseline and every augmented arm (which share both) are selected on the same users; test evaluation always
covers every user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from recaug.evaluate.metrics import DEFAULT_KS, DEFAULT_METRICS, per_user_metrics, rank_top_k

# Floats per scored batch (16 MB as float32), whatever the catalog size. Why not more: a fresh score array above
# glibc's 32 MB mmap threshold is mapped and zero-filled page by page on every batch (30% of BPR's scoring at 20,000
# items); below it the allocator reuses the same memory. ML-100k keeps its 2,048-user batches.
SCORE_BUDGET = 4_000_000
SELECTION_USERS = 10_000  # validation users sampled for model selection (all of them below this)
# Scores (users x items) one selection look may compute: a wide catalog gets fewer users. Why: 10,000 users x
# 20,000 items cost as much as a BPR epoch per look (39% of a long-tail 1M fit); 50M cells keep 10,000 users up to
# 5,000 items (ML-100k, ML-1M, scale_data's 1m: unchanged) and 2,500 users at 20,000 items.
SELECTION_CELLS = 50_000_000
SELECTION_MIN_USERS = 2_000  # the cell cap never samples fewer (a huge catalog pays for a steady curve)


class Scorer(Protocol):
    """What evaluation needs from a model: scores for a batch of users (every recommender is one). Evaluating
    against this small protocol, not ``Recommender``, keeps ``evaluate`` independent of ``models``."""

    def score(self, user_indices: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class UserMetrics:
    """Per-user metric values for the users with at least one relevant item."""

    users: np.ndarray  # user indices
    values: dict[tuple[str, int], np.ndarray]
    top: np.ndarray  # top-max(k) item indices per user, for beyond-accuracy metrics


def users_with_targets(target: sp.csr_matrix) -> np.ndarray:
    """Indices of the rows of ``target`` that have at least one relevant item."""
    return np.flatnonzero(np.diff(target.tocsr().indptr) > 0)


def score_batch_size(n_items: int, batch_size: int = 2048) -> int:
    """Users per batch so that one batch of scores stays under ``SCORE_BUDGET`` floats."""
    return max(1, min(batch_size, SCORE_BUDGET // max(n_items, 1)))


def evaluate_model(
    model: Scorer,
    target: sp.csr_matrix,
    exclude: sp.csr_matrix,
    *,
    ks: tuple[int, ...] = DEFAULT_KS,
    metrics: tuple[str, ...] = DEFAULT_METRICS,
    batch_size: int = 2048,
    users: np.ndarray | None = None,
) -> UserMetrics:
    """Full ranking over all items for users with targets; ``exclude`` (train [+ valid]) is never ranked.

    ``target`` and ``exclude`` have the real users' rows only; virtual users are never evaluated. ``users``
    restricts evaluation to a subset of the users with targets (model selection's sample); default: all of them.
    """
    target, exclude = target.tocsr(), exclude.tocsr()
    users = users_with_targets(target) if users is None else np.asarray(users, dtype=np.int64)
    k_max = max(ks)
    step = score_batch_size(target.shape[1], batch_size)
    tops: list[np.ndarray] = []
    parts: list[dict[tuple[str, int], np.ndarray]] = []
    for start in range(0, len(users), step):
        batch = users[start : start + step]
        scores = np.asarray(model.score(batch), dtype=np.float32)
        top = rank_top_k(scores, exclude[batch], k_max)
        del scores
        tops.append(top)
        parts.append(per_user_metrics(top, target[batch], ks, metrics))
    top = np.vstack(tops) if tops else np.zeros((0, k_max), dtype=np.int64)
    if parts:
        values = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    else:
        values = per_user_metrics(top, target[users], ks, metrics)
    return UserMetrics(users=users, values=values, top=top)


def mean_metric(model: Scorer, target: sp.csr_matrix, exclude: sp.csr_matrix, metric: str, k: int) -> float:
    """One averaged number over every user with targets."""
    result = evaluate_model(model, target, exclude, ks=(k,), metrics=(metric,))
    values = result.values[(metric, k)]
    return float(values.mean()) if len(values) else 0.0


def selection_size(n_items: int, max_users: int = SELECTION_USERS, max_cells: int = SELECTION_CELLS) -> int:
    """Users a selection look ranks at most: ``max_users``, fewer where ``max_cells`` scores would be exceeded,
    never fewer than ``SELECTION_MIN_USERS`` (or ``max_users``, if smaller)."""
    return min(max_users, max(SELECTION_MIN_USERS, max_cells // max(n_items, 1)))


def selection_users(
    valid: sp.csr_matrix, seed: int, max_users: int = SELECTION_USERS, max_cells: int = SELECTION_CELLS
) -> np.ndarray:
    """The fixed validation users model selection ranks: all with targets, or a seeded sample of
    :func:`selection_size` of them (a pure function of the validation matrix, the seed and the caps)."""
    users = users_with_targets(valid)
    size = selection_size(valid.shape[1], max_users, max_cells)
    if len(users) <= size:
        return users
    return np.sort(np.random.default_rng([seed, 20_251_127]).choice(users, size=size, replace=False))


def selection_score(
    model: Scorer,
    valid: sp.csr_matrix,
    exclude: sp.csr_matrix,
    *,
    seed: int,
    metric: str = "ndcg",
    k: int = 10,
    max_users: int = SELECTION_USERS,
    max_cells: int = SELECTION_CELLS,
) -> float:
    """Validation ``metric@k`` on :func:`selection_users`; ``exclude`` is the real training history (issue #9).

    ``valid`` may have fewer rows than ``exclude`` (no virtual users); they are aligned on the first rows.
    """
    valid, exclude = valid.tocsr(), exclude.tocsr()
    rows = min(valid.shape[0], exclude.shape[0])
    if valid.shape[0] != rows:
        valid = valid[:rows]
    if exclude.shape[0] != rows:
        exclude = exclude[:rows]
    users = selection_users(valid, seed, max_users, max_cells)
    result = evaluate_model(model, valid, exclude, ks=(k,), metrics=(metric,), users=users)
    values = result.values[(metric, k)]
    return float(values.mean()) if len(values) else 0.0
