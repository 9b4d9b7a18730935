"""``llm-interactions`` (LLMRec-style): the LLM picks, among a base recommender's candidates, what a user will like.

Unlike LLMRec, candidates come from a recommender fitted here on the training split alone (item-kNN by default),
never from the test set. Each targeted user's prompt lists their most recent training items and the candidates;
then either

* ``choice="logprob"`` (default): every candidate title is scored as the answer in one batched pass; the choice is
  the most likely title and the confidence its softmax probability over the candidates. It cannot name an item
  outside the catalog, and the least likely candidate is kept as a hard negative (``artifacts_["hard_negatives"]``);
* ``choice="text"``: the LLM writes a title, which is mapped back to the candidates, then to the whole catalog
  (exact / contained / fuzzy title match); answers that map to nothing, or to an item the user already has, are
  rejected and counted.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from recaug.augment.base import Target, register
from recaug.augment.llm_common import ACCEPTED, LLMAugmenter, softmax
from recaug.augment.train_model import fit_train_model
from recaug.data.dataset import TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, USER
from recaug.errors import RecaugInputError
from recaug.progress import ProgressFn
from recaug.text.llm.parsing import TitleMatcher

CHOICE_MODES = ("logprob", "text")


@register
class LLMInteractionsAugmenter(LLMAugmenter):
    """The LLM chooses liked items among training-only candidates; see the module docstring."""

    name = "llm-interactions"
    description = "LLMRec-style: an LLM picks the items each user will like among a base recommender's candidates"
    family = "llm"
    param_choices: ClassVar[dict[str, tuple[str, ...]]] = {"choice": CHOICE_MODES}

    def __init__(
        self,
        *,
        max_users: int = 50,
        n_candidates: int = 10,
        candidate_model: str = "itemknn",
        picks_per_user: int = 1,
        choice: str = "logprob",
        shuffle_candidates: bool = True,
        **shared: Any,
    ) -> None:
        super().__init__(**shared)
        self.max_users = max_users
        self.n_candidates = n_candidates
        self.candidate_model = candidate_model
        self.picks_per_user = picks_per_user
        self.choice = choice
        self.shuffle_candidates = shuffle_candidates

    def _fit(self, train: TrainingData) -> None:
        if self.choice not in CHOICE_MODES:
            raise RecaugInputError(f"unknown choice mode '{self.choice}'", fix=f"use one of {', '.join(CHOICE_MODES)}")
        if self.n_candidates < 2:
            raise RecaugInputError(f"n_candidates must be at least 2, got {self.n_candidates}")
        super()._fit(train)
        self.ranker_ = fit_train_model(train, model=self.candidate_model, seed=self.seed)

    def candidates(self, users: np.ndarray, target: Target) -> list[np.ndarray]:
        """Each user's top ``n_candidates`` unseen target items under the base recommender."""
        scores = np.asarray(self.ranker_.score(users), dtype=np.float64)
        allowed = np.zeros(self.train_.n_items, dtype=bool)
        allowed[target.items] = True
        scores[:, ~allowed] = -np.inf
        scores[self.train_.matrix[users].toarray() > 0] = -np.inf
        top = np.argsort(-scores, axis=1, kind="stable")[:, : self.n_candidates]
        return [row[np.isfinite(scores[k, row])] for k, row in enumerate(top)]

    def prompt(self, history: np.ndarray, candidates: np.ndarray) -> str:
        noun = self.item_noun
        answer = "Answer with its title only." if self.choice == "text" else "Answer with its title."
        return (
            f"A user liked these {noun}s (oldest first):\n{self.history_block(history)}\n"
            f"Candidate {noun}s:\n{self.history_block(candidates)}\n"
            f"Which candidate {noun} will the user like most? {answer}"
        )

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        self._begin()
        users = self.pick_users(target, self.max_users, rng)
        per_user = self.candidates(users, target) if len(users) else []
        jobs = []
        for user, cands in zip(users, per_user, strict=True):
            if len(cands) < 2:
                continue
            cands = rng.permutation(cands) if self.shuffle_candidates else cands
            history = self.recent_history(int(user))
            jobs.append((int(user), history, cands, self.prompt(history, cands)))
        prompts = [job[3] for job in jobs]
        if self.choice == "logprob":
            options = [[str(self.titles_[c]) for c in job[2]] for job in jobs]
            answers = self.score_in_batches(prompts, options, progress, "users scored")
            rows = [self._decide_by_scores(job, answer) for job, answer in zip(jobs, answers, strict=True)]
        else:
            generated = self.generate_in_batches(prompts, 24, progress, "users answered")
            rows = [self._decide_by_text(job, answer) for job, answer in zip(jobs, generated, strict=True)]
        if self.choice == "logprob":
            self.artifacts_["hard_negatives"] = pd.DataFrame(
                self.artifacts_.get("hard_negatives", []), columns=[USER, ITEM, "probability", "prompt_id"]
            )
        self._end(
            {
                "users_prompted": len(jobs),
                "choice": self.choice,
                "hard_negatives": len(self.artifacts_.get("hard_negatives", [])),
            }
        )
        picks = [r for user_rows in rows for r in user_rows]
        if not picks:
            return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE, "prompt_id"])
        # Rank by rank across users (each user's first pick before anyone's second), best first within a rank.
        picks.sort(key=lambda r: (r[4], -r[2]))
        u, i, c, p, _ = zip(*picks, strict=True)
        return self.rows_frame(u, i, c, p)

    def _decide_by_scores(self, job: tuple[int, np.ndarray, np.ndarray, str], answer: Any) -> list[tuple]:
        user, history, cands, prompt = job
        probs = softmax(answer.logprobs)
        response = answer.raw or "; ".join(
            f"{self.titles_[c]}: {v:.3f}" for c, v in zip(cands, answer.logprobs, strict=True)
        )
        if answer.error is not None or np.isnan(probs).any():
            self.record(
                prompt=prompt,
                response=response,
                cost=answer,
                user=user,
                history=history,
                candidates=cands,
                accepted=False,
                reason=f"backend error: {answer.error}",
            )
            return []
        order = np.argsort(-probs, kind="stable")
        picks = order[: self.picks_per_user]
        negative = int(cands[order[-1]])
        prompt_id = self.record(
            prompt=prompt,
            response=response,
            cost=answer,
            user=user,
            item=int(cands[picks[0]]),
            history=history,
            candidates=cands,
            parsed=", ".join(self.item_ids(cands[picks])),
            confidence=float(probs[picks[0]]),
            accepted=True,
            reason=ACCEPTED,
        )
        negatives = self.artifacts_.setdefault("hard_negatives", [])
        negatives.append(
            {
                USER: str(self.train_.user_ids[user]),
                ITEM: str(self.train_.item_ids[negative]),
                "probability": float(probs[order[-1]]),
                "prompt_id": prompt_id,
            }
        )
        return [(user, int(cands[k]), float(probs[k]), prompt_id, rank) for rank, k in enumerate(picks)]

    def _decide_by_text(self, job: tuple[int, np.ndarray, np.ndarray, str], answer: Any) -> list[tuple]:
        user, history, cands, prompt = job
        common = {
            "prompt": prompt,
            "response": answer.text,
            "cost": answer,
            "user": user,
            "history": history,
            "candidates": cands,
        }
        if answer.error is not None:
            self.record(**common, accepted=False, reason=f"backend error: {answer.error}")
            return []
        if getattr(self, "matcher_", None) is None:
            self.matcher_ = TitleMatcher(self.titles_)
        matcher = self.matcher_
        found = matcher.match(answer.text, allowed=cands) or matcher.match(answer.text)
        if found is None:
            self.record(**common, accepted=False, reason="unmapped: the answer names no catalog item")
            return []
        item = int(found.index)
        parsed = self.item_ids([item])[0]
        if self.train_.matrix[user, item] > 0:
            self.record(
                **common,
                item=item,
                parsed=parsed,
                confidence=found.score,
                accepted=False,
                reason="repeats history: the answer is an item the user already has",
            )
            return []
        prompt_id = self.record(
            **common,
            item=item,
            parsed=parsed,
            confidence=found.score,
            accepted=True,
            reason=ACCEPTED if item in set(cands.tolist()) else "accepted: outside the candidates",
        )
        return [(user, item, float(found.score), prompt_id, 0)]
