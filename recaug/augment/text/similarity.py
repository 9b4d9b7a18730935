"""``similarity``: text-similarity sample expansion (文本相似度匹配).

Each target user's profile is the mean text embedding of their training items;
their most similar unseen items become synthetic interactions, with the cosine
similarity mapped to [0, 1] as the confidence. Budget is shared evenly among
target users (round-robin by rank), so light users are not crowded out.
"""

from __future__ import annotations

from typing import ClassVar, Unpack

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.augment.base import Augmenter, AugmentOptions, Target, register
from recaug.augment.ranking import round_robin
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn
from recaug.data.dataset import TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, USER
from recaug.evaluate.metrics import top_k_indices
from recaug.text.encoder import DEFAULT_ENCODER, encode_texts
from recaug.text.finetune import encoder_for


def history_profiles(history: sp.csr_matrix, item_vectors: np.ndarray) -> np.ndarray:
    """Each row's taste in text space: the mean of its items' normalised vectors, re-normalised."""
    profile = np.asarray(history @ item_vectors) / np.maximum(np.asarray(history.sum(axis=1)), 1)
    profile /= np.linalg.norm(profile, axis=1, keepdims=True) + 1e-8
    return profile


def ranked_matches(
    queries: np.ndarray,
    candidates: np.ndarray,
    forbidden: sp.csr_matrix,
    depth: int,
    progress: ProgressFn,
    message: str,
    chunk: int = 512,
) -> tuple[np.ndarray, np.ndarray]:
    """For each query vector, the ``depth`` most cosine-similar candidates that ``forbidden`` does not mark.

    Returns (candidate positions, similarities), both (n_queries, depth); forbidden pairs score -inf.
    """
    tops, scores = [], []
    for start in range(0, len(queries), chunk):
        sims = queries[start : start + chunk] @ candidates.T
        sims[forbidden[start : start + chunk].toarray() > 0] = -np.inf
        top = top_k_indices(sims, depth)
        tops.append(top)
        scores.append(np.take_along_axis(sims, top, axis=1))
        progress(min(1.0, (start + chunk) / len(queries)), message)
    return np.vstack(tops), np.vstack(scores)


@register
class SimilarityAugmenter(Augmenter):
    """Adds each target user's most text-similar unseen items."""

    name = "similarity"
    description = "Text-similarity expansion: users get unseen items whose text is closest to their history"
    family = "text"

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "min_similarity": [Interval(float, -1.0, 1.0)],
        "encoder": [str],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        encoder: str = DEFAULT_ENCODER,
        min_similarity: float = 0.0,
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.encoder = encoder
        self.min_similarity = min_similarity

    def _fit(self, train: TrainingData) -> None:
        texts = train.items["text"].tolist()
        encoder = encoder_for(self.encoder, train.matrix, texts, seed=self.seed, info=self.info_)  # "tuned" too
        self.item_vectors_ = encode_texts(texts, model=encoder)

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        train = self.train_
        users = target.users
        degree = train.user_degree()[users]
        users = users[degree > 0]
        if len(users) == 0 or len(target.items) == 0:
            return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE])
        depth = min(len(target.items), int(np.ceil(budget / len(users))) + 1)
        history = train.matrix[users]
        profile = history_profiles(history, self.item_vectors_)
        top, sims = ranked_matches(
            profile,
            self.item_vectors_[target.items],
            history[:, target.items],
            depth,
            progress,
            "matching users to similar items",
        )
        u, i, s = round_robin([np.full(depth, user) for user in users], list(target.items[top]), list(sims), budget * 2)
        ok = np.isfinite(s) & (s >= self.min_similarity)
        return pd.DataFrame(
            {
                USER: train.user_ids.to_numpy()[u[ok]],
                ITEM: train.item_ids.to_numpy()[i[ok]],
                CONFIDENCE: np.clip((s[ok] + 1.0) / 2.0, 0.0, 1.0),
            }
        )
