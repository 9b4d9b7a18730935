"""Turning a user x item score matrix into ranked synthetic rows, shared by the score-based augmenters.

Every score-based augmenter (link prediction, CFGAN, RL-GAN, popularity, item-kNN expansion) does the same
thing once it can score: for each target user, take the best unseen target items, then interleave users rank by
rank so light users are not crowded out by one user with many candidates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from recaug.augment.targets import Target
from recaug.core.progress import ProgressFn
from recaug.data.dataset import TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, USER
from recaug.evaluate.metrics import top_k_indices

ScoreFn = Callable[[np.ndarray], np.ndarray]  # user indices -> (n, n_items) scores, higher is better
ConfidenceFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (users, their scores, chosen) -> [0, 1]


def round_robin(
    user_rows: list[np.ndarray], item_rows: list[np.ndarray], score_rows: list[np.ndarray], budget: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interleave per-user ranked lists rank by rank, so each user gets a fair share of the budget."""
    if not user_rows:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=np.float32)
    users = np.stack(user_rows)  # (n_users, depth)
    items = np.stack(item_rows)
    scores = np.stack(score_rows)
    order = users.T.ravel(), items.T.ravel(), scores.T.ravel()
    return order[0][:budget], order[1][:budget], order[2][:budget]


def index_mask(size: int, indices: np.ndarray) -> np.ndarray:
    """Boolean mask of length ``size`` that is True at ``indices`` (e.g. a target's allowed items)."""
    mask = np.zeros(size, dtype=bool)
    mask[indices] = True
    return mask


def plausibility(scores: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """P(a chosen item outranks a uniformly random catalog item) under the scores: mean_j sigmoid(s_i - s_j).

    It is one minus the average BPR loss of the edge against every item as the negative, so it is comparable
    across users whose raw scores have different scales; in [0, 1].
    """
    out = np.empty(chosen.shape, dtype=np.float32)
    chunk = max(1, int(2e7 // max(chosen.shape[1] * scores.shape[1], 1)))  # bounds the (chunk, k, n_items) temp
    for start in range(0, len(chosen), chunk):
        rows = scores[start : start + chunk].astype(np.float32)
        finite = np.where(np.isfinite(rows), rows, np.float32(-1e9))
        picked = np.take_along_axis(finite, chosen[start : start + chunk], axis=1)
        diff = np.clip(picked[:, :, None] - finite[:, None, :], -60.0, 60.0)
        out[start : start + chunk] = (1.0 / (1.0 + np.exp(-diff))).mean(axis=2)
    return out


def plausibility_confidence(users: np.ndarray, scores: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """:func:`plausibility` as a :data:`ConfidenceFn`."""
    return plausibility(scores, chosen)


def score_confidence(users: np.ndarray, scores: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Confidence = the score itself (for scores that already are probabilities, e.g. a generator's output)."""
    return np.clip(np.take_along_axis(scores, chosen, axis=1), 0.0, 1.0)


def top_unseen_rows(
    train: TrainingData,
    target: Target,
    score_fn: ScoreFn,
    budget: int,
    *,
    confidence_fn: ConfidenceFn = plausibility_confidence,
    min_confidence: float = 0.0,
    progress: ProgressFn,
    message: str,
    batch_size: int = 256,
) -> pd.DataFrame:
    """Each target user's highest-scoring unseen target items (-inf scores never chosen), interleaved by rank."""
    users = target.users
    if len(users) == 0 or len(target.items) == 0:
        return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE])
    depth = int(min(len(target.items), np.ceil(budget / len(users)) + 2))
    allowed = index_mask(train.n_items, target.items)
    user_rows, item_rows, conf_rows = [], [], []
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        scores = np.asarray(score_fn(batch), dtype=np.float32)
        masked = np.where(allowed[None, :] & (train.matrix[batch].toarray() == 0), scores, -np.inf)
        top = top_k_indices(masked, depth)
        usable = np.isfinite(np.take_along_axis(masked, top, axis=1))
        conf = np.where(usable, confidence_fn(batch, scores, top), -np.inf)
        for row, user in enumerate(batch):
            user_rows.append(np.full(depth, user))
            item_rows.append(top[row])
            conf_rows.append(conf[row])
        progress(min(1.0, (start + batch_size) / len(users)), message)
    u, i, c = round_robin(user_rows, item_rows, conf_rows, len(users) * depth)
    ok = np.isfinite(c) & (c >= min_confidence)
    return pd.DataFrame(
        {
            USER: train.user_ids.to_numpy()[u[ok]],
            ITEM: train.item_ids.to_numpy()[i[ok]],
            CONFIDENCE: c[ok].astype(float),
        }
    )
