"""``llm-cold-items``: items with few or no interactions go to the users an LLM points them to.

``mode="one-pass"`` (the default; after FilterLLM, 2025) covers every cold item at the cost of one generation per
item: the LLM enriches each cold item's text with keywords once, the enriched text is embedded, scored against
every user's history profile, and the closest users receive the item (as ``llm-item-text`` does for thin items).

``mode="judge"`` (ColdLLM-style): for each of the ``max_items`` least-interacted target items, the
``users_per_item`` users whose training history is closest in text space are the candidates (ColdLLM's embedding
filter). Each (user, item) pair is one prompt: the user's recent training history and the item's text, "Would this
user like it? Yes or No", scored by the log-likelihood of "Yes" against "No". Small models answer "No" (or "Yes")
to almost everything, so by default the log-odds are calibrated (Zhao et al. 2021, "Calibrate before use"): the
same question about a user we know nothing about gives each item's baseline, and P(yes) = sigmoid(log-odds -
baseline) measures how much this user's history raises the answer. Pairs with P(yes) >= ``min_yes`` become
interactions with P(yes) as the confidence; the rest are logged as rejected. That is one call per (user, item)
pair, so it suits small runs.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from recaug.augment.base import NotFittedError, Target, register
from recaug.augment.llm.llm_common import ACCEPTED, LLMAugmenter
from recaug.augment.llm.llm_item_text import enrich_items, give_items_to_users, thin_items
from recaug.augment.text.similarity import history_profiles, ranked_matches
from recaug.core.errors import RecaugInputError
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn, no_progress, sub_progress
from recaug.data.dataset import TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, USER
from recaug.text.encoder import DEFAULT_ENCODER, encode_texts
from recaug.text.finetune import encoder_for

ANSWERS = ["Yes", "No"]
COLD_MODES = ("one-pass", "judge")


@register
class LLMColdItemsAugmenter(LLMAugmenter):
    """One pass: the LLM enriches cold items' text; judge: it accepts or rejects (user, cold item) pairs."""

    name = "llm-cold-items"
    description = (
        "FilterLLM-style (default): an LLM enriches each cold item's text once; the closest users receive it "
        "(mode=judge: ColdLLM-style yes/no per user)"
    )
    family = "llm"
    param_choices: ClassVar[dict[str, tuple[str, ...]]] = {"mode": COLD_MODES}
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "max_items": [Interval(int, 0, None)],
        "users_per_item": [Interval(int, 1, None)],
        "max_users": [Interval(int, 0, None)],
        "min_yes": [Interval(float, 0.0, 1.0)],
        "calibrate": [bool],
        "max_new_tokens": [Interval(int, 1, None)],
        "encoder": [str],
    }

    def __init__(
        self,
        *,
        mode: str = "one-pass",
        max_items: int = 0,
        users_per_item: int = 5,
        max_users: int = 200,
        min_yes: float = 0.5,
        calibrate: bool = True,
        max_new_tokens: int = 32,
        encoder: str = DEFAULT_ENCODER,
        **shared: Any,
    ) -> None:
        super().__init__(**shared)
        self.mode = mode
        self.max_new_tokens = max_new_tokens
        self.max_items = max_items
        self.users_per_item = users_per_item
        self.max_users = max_users
        self.min_yes = min_yes
        self.calibrate = calibrate
        self.encoder = encoder

    def _fit(self, train: TrainingData) -> None:
        super()._fit(train)
        if self.mode == "judge":
            self._check_judge_scoring()
        self.encoder_ = encoder_for(
            self.encoder, train.matrix, train.items["text"].tolist(), seed=self.seed, info=self.info_
        )
        self.item_vectors_ = encode_texts(train.items["text"].tolist(), model=self.encoder_)

    def _check_judge_scoring(self) -> None:
        """Refuse, before any call, a backend whose yes/no scores are not log-likelihoods: the judge compares each
        pair's log-odds with the calibration user's (another call) and with ``min_yes``, which a lettered choice
        (it only ranks the options shown together) cannot give, and would silently turn into a positional answer."""
        try:
            self.llm_.check_scoring(likelihoods=True)
        except RecaugInputError as error:
            raise RecaugInputError(
                f"{self.name} in mode 'judge' compares yes/no log-likelihoods across calls, and {error.problem}",
                fix="use mode 'one-pass' (one generation per item, no scoring), a server that returns prompt "
                "log-probabilities (vLLM, or llama.cpp behind its beginning-of-text token), or the local backend",
            ) from error

    def prompt(self, history: np.ndarray | None, item: int) -> str:
        """The yes/no question about catalog item ``item``; ``history=None`` is the calibration user."""
        return self.prompt_for_text(history, self.texts_[item])

    def prompt_for_text(self, history: np.ndarray | None, item_text: str) -> str:
        """The yes/no question about any item text (a catalog item, or a what-if item not in the catalog)."""
        noun = self.item_noun
        liked = self.history_block(history) if history is not None else "- (nothing known about this user yet)"
        return (
            f"A user liked these {noun}s (oldest first):\n{liked}\n"
            f"New {noun}: {item_text}\n"
            f"Would this user like the new {noun}? Answer Yes or No."
        )

    def judge_new_item(self, item_text: str, users: np.ndarray, progress: ProgressFn | None = None) -> pd.DataFrame:
        """P(yes) of each candidate user for an item that is not in the catalog (the cold-start what-if).

        Same prompt, calibration and acceptance rule as :meth:`augment`, so the what-if shows what this
        augmenter would do with the new item. Returns user_id, p_yes, accepted, prompt (one row per user).
        """
        if not hasattr(self, "train_"):
            raise NotFittedError(f"{self.name}: call fit(train) before judge_new_item()")
        users = np.asarray(users, dtype=np.int64)
        prompts = [self.prompt_for_text(self.recent_history(int(u)), item_text) for u in users]
        if self.calibrate:
            prompts.append(self.prompt_for_text(None, item_text))
        answers = self.score_in_batches(prompts, [ANSWERS] * len(prompts), progress or no_progress, "users judged")
        shift = log_odds(answers[-1].logprobs) if self.calibrate else 0.0
        shift = shift if np.isfinite(shift) else 0.0
        odds = np.array([log_odds(a.logprobs) for a in answers[: len(users)]]) - shift
        p_yes = 1.0 / (1.0 + np.exp(-odds))
        return pd.DataFrame(
            {
                USER: self.train_.user_ids.to_numpy()[users],
                "p_yes": p_yes,
                "accepted": p_yes >= self.min_yes,
                "prompt": prompts[: len(users)],
            }
        )

    def planned_calls(self, budget: int, target: Target) -> int:
        items = min(len(target.items), self.max_items or len(target.items))
        if self.mode == "one-pass":
            return items
        return items * (min(self.users_per_item, self.max_users or self.users_per_item) + int(self.calibrate))

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        self._begin()
        wanted = self.planned_calls(budget, target)
        if self.mode == "one-pass":
            items = thin_items(self.train_, target.items, min(wanted, self.call_cap()))
            frame = enrich_items(self, items, self.max_new_tokens, sub_progress(progress, 0.0, 0.9))
            self._end(
                {
                    "mode": self.mode,
                    "items_prompted": len(items),
                    "items_enriched": len(frame),
                    "calls_capped": len(items) < wanted,
                }
            )
            users = target.users[self.train_.user_degree()[target.users] > 0]
            return give_items_to_users(self, frame, users, budget, sub_progress(progress, 0.9, 1.0))
        per_item = max(wanted // max(min(len(target.items), self.max_items or len(target.items)), 1), 1)
        items = thin_items(
            self.train_, target.items, min(self.max_items or len(target.items), self.call_cap() // per_item)
        )
        pool = self.pick_users(target, self.max_users or self.train_.n_users, rng)
        jobs = []
        if len(items) and len(pool):
            history = self.train_.matrix[pool]
            depth = min(self.users_per_item, len(pool))
            top, sims = ranked_matches(
                self.item_vectors_[items],
                history_profiles(history, self.item_vectors_),
                history[:, items].T.tocsr(),
                depth,
                sub_progress(progress, 0.0, 0.05),
                "finding candidate users",
            )
            for k, item in enumerate(items):
                for pos in top[k][np.isfinite(sims[k])]:
                    user = int(pool[pos])
                    recent = self.recent_history(user)
                    jobs.append((user, int(item), recent, self.prompt(recent, int(item))))
        # Calibration (Zhao et al. 2021): the same question about a user we know nothing about, once per item.
        neutral = sorted({job[1] for job in jobs}) if self.calibrate else []
        prompts = [job[3] for job in jobs] + [self.prompt(None, item) for item in neutral]
        answers = self.score_in_batches(
            prompts, [ANSWERS] * len(prompts), sub_progress(progress, 0.05, 1.0), "pairs judged"
        )
        baseline = {item: log_odds(a.logprobs) for item, a in zip(neutral, answers[len(jobs) :], strict=True)}
        rows = []
        for (user, item, recent, prompt), answer in zip(jobs, answers[: len(jobs)], strict=True):
            odds = log_odds(answer.logprobs)
            shift = baseline.get(item, 0.0)
            if np.isfinite(shift) and np.isfinite(odds):
                odds -= shift
            p_yes = float(1.0 / (1.0 + np.exp(-odds))) if not np.isnan(odds) else float("nan")
            response = answer.raw or f"Yes: {answer.logprobs[0]:.3f}; No: {answer.logprobs[1]:.3f}"
            if item in baseline:
                response += f"; log-odds of a user we know nothing about: {baseline[item]:.3f}"
            common: dict[str, Any] = {
                "prompt": prompt,
                "response": response,
                "cost": answer,
                "user": user,
                "item": item,
                "history": recent,
                "candidates": [item],
                "confidence": p_yes,
            }
            if answer.error is not None or np.isnan(p_yes):
                self.record(**common, accepted=False, reason=f"backend error: {answer.error}")
            elif p_yes < self.min_yes:
                self.record(**common, parsed="no", accepted=False, reason=f"LLM said no: P(yes)={p_yes:.2f}")
            else:
                rows.append((user, item, p_yes, self.record(**common, parsed="yes", accepted=True, reason=ACCEPTED)))
        self._end(
            {
                "mode": self.mode,
                "calls_capped": len(items) < min(len(target.items), self.max_items or len(target.items)),
                "items_prompted": len(items),
                "pairs_judged": len(jobs),
                "pairs_accepted": len(rows),
                "calibration_calls": len(neutral),
            }
        )
        if not rows:
            return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE, "prompt_id"])
        rows.sort(key=lambda r: -r[2])
        u, i, c, p = zip(*rows, strict=True)
        return self.rows_frame(u, i, c, p)


def log_odds(logprobs: np.ndarray) -> float:
    """log P(yes) - log P(no) from the two answers' log-likelihoods (NaN when the call failed)."""
    if len(logprobs) != 2 or np.isnan(logprobs).any():
        return float("nan")
    with np.errstate(invalid="ignore"):
        return float(logprobs[0] - logprobs[1])
