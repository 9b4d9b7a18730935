"""``llm-profiles`` (LLMRec / KAR-style user knowledge): the LLM writes a short taste profile per targeted user.

The profile is written from the user's training history only, embedded with the sentence encoder, and the user's
new interactions are the unseen items whose text is closest to the profile (``profile_weight`` < 1 mixes in the
plain history-mean vector of the ``similarity`` augmenter). Profiles and their embeddings are kept in
``artifacts_["profiles"]`` and ``artifacts_["profile_embeddings"]`` for the Embeddings page and what-ifs.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from recaug.augment.base import Target, register
from recaug.augment.llm.llm_common import LLMAugmenter
from recaug.augment.text.similarity import history_profiles, ranked_matches, round_robin
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn, sub_progress
from recaug.data.dataset import TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, USER
from recaug.text.encoder import DEFAULT_ENCODER, encode_texts
from recaug.text.finetune import encoder_for


@register
class LLMProfilesAugmenter(LLMAugmenter):
    """LLM-written user profiles, matched to item text; see the module docstring."""

    name = "llm-profiles"
    description = "LLM writes a taste profile per user; items whose text is closest to the profile are added"
    family = "llm"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "max_users": [Interval(int, 0, None)],
        "max_new_tokens": [Interval(int, 1, None)],
        "profile_weight": [Interval(float, 0.0, 1.0)],
        "encoder": [str],
    }

    def __init__(
        self,
        *,
        max_users: int = 0,
        max_new_tokens: int = 60,
        profile_weight: float = 1.0,
        encoder: str = DEFAULT_ENCODER,
        **shared: Any,
    ) -> None:
        super().__init__(**shared)
        self.max_users = max_users
        self.max_new_tokens = max_new_tokens
        self.profile_weight = profile_weight
        self.encoder = encoder

    def _fit(self, train: TrainingData) -> None:
        super()._fit(train)
        self.encoder_ = encoder_for(
            self.encoder, train.matrix, train.items["text"].tolist(), seed=self.seed, info=self.info_
        )
        self.item_vectors_ = encode_texts(train.items["text"].tolist(), model=self.encoder_)

    def prompt(self, history: np.ndarray) -> str:
        return (
            f"A user liked these {self.item_noun}s (oldest first):\n{self.history_block(history)}\n"
            "In one or two sentences, describe this user's taste: favourite genres, moods and themes. "
            "Do not list titles."
        )

    def planned_calls(self, budget: int, target: Target) -> int:
        eligible = int((self.train_.user_degree()[target.users] > 0).sum())
        return min(eligible, self.max_users or eligible)

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        self._begin()
        wanted = self.planned_calls(budget, target)
        users = self.pick_users(target, min(wanted, self.call_cap()), rng)
        histories = [self.recent_history(int(u)) for u in users]
        prompts = [self.prompt(h) for h in histories]
        answers = self.generate_in_batches(
            prompts, self.max_new_tokens, sub_progress(progress, 0.0, 0.9), "profiles written"
        )
        kept_users, profiles, prompt_ids = [], [], []
        for user, history, prompt, answer in zip(users, histories, prompts, answers, strict=True):
            profile = " ".join(answer.text.split())
            prompt_id = self.record_text(
                answer, prompt, profile, empty="empty profile", user=int(user), history=history
            )
            if prompt_id:
                kept_users.append(int(user))
                profiles.append(profile)
                prompt_ids.append(prompt_id)
        self._end({"users_prompted": len(users), "profiles": len(profiles), "calls_capped": len(users) < wanted})
        if not profiles or len(target.items) == 0:
            self.artifacts_["profiles"] = pd.DataFrame(columns=[USER, "profile", "prompt_id"])
            return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE, "prompt_id"])
        kept = np.asarray(kept_users, dtype=np.int64)
        vectors = encode_texts(profiles, model=self.encoder_)
        self.artifacts_["profiles"] = pd.DataFrame(
            {USER: self.train_.user_ids.to_numpy()[kept].astype(str), "profile": profiles, "prompt_id": prompt_ids}
        )
        self.artifacts_["profile_embeddings"] = vectors
        history = self.train_.matrix[kept]
        if self.profile_weight < 1.0:
            mixed = self.profile_weight * vectors + (1 - self.profile_weight) * history_profiles(
                history, self.item_vectors_
            )
            vectors = mixed / (np.linalg.norm(mixed, axis=1, keepdims=True) + 1e-8)
        depth = min(len(target.items), int(np.ceil(budget / len(kept))) + 1)
        top, sims = ranked_matches(
            vectors,
            self.item_vectors_[target.items],
            history[:, target.items],
            depth,
            sub_progress(progress, 0.9, 1.0),
            "matching profiles to items",
        )
        position = {u: k for k, u in enumerate(kept_users)}
        u, i, s = round_robin([np.full(depth, user) for user in kept], list(target.items[top]), list(sims), budget * 2)
        ok = np.isfinite(s)
        return self.rows_frame(
            u[ok], i[ok], np.clip((s[ok] + 1.0) / 2.0, 0.0, 1.0), [prompt_ids[position[int(x)]] for x in u[ok]]
        )
