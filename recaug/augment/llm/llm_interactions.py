"""``llm-interactions`` (LLMRec-style): the LLM picks, among a base recommender's candidates, what a user will like.

Unlike LLMRec, candidates come from a recommender fitted here on the training split alone (item-kNN by default),
never from the test set. Each targeted user's prompt lists their most recent training items; then one of

* ``choice="continuation"`` (default): the prompt lists the history only ("... the next movie they will enjoy
  is:") and each candidate title is scored as its continuation, one call per user. No candidate is listed, so there
  is no position to prefer and no order to flip; the options go to the backend in a canonical order. Raw
  log-likelihoods favour titles that are likely whatever the history, so ``normalise="pmi"`` (default) subtracts
  each title's log-likelihood after a content-free prompt (every distinct candidate once, 32 per calibration
  call), ``"length"`` divides by the title's tokens, ``"none"`` keeps the sum. Top ``picks_per_user`` are picks,
  the bottom ones LLMRec's negatives (below). Three times cheaper than ``logprob`` with 3 orders, and every user
  gets a pick (``benchmarks/llm.md`` compares them on held-out items);
* ``choice="logprob"``: the prompt also lists the candidates, and every candidate title is scored as the answer;
  the prompt is asked in ``n_orders`` cyclic shifts of the candidate list and each candidate's log-likelihood is
  averaged over them (:mod:`recaug.augment.llm.llm_choice`), so the first-listed candidate no longer wins by
  position. A pick must be in the top ``picks_per_user`` under every order, else it is rejected as unstable and
  counted. The candidates at the bottom under every order become LLMRec's negatives: rows with ``polarity`` -1
  (``negatives=True``; off by default: with the packaged SmolLM2 they made BPR clearly worse for light users,
  NDCG@20 -0.056 over 3 seeds in ``benchmarks/llm.md``, because the "least liked" of item-kNN's top candidates are
  often items the user goes on to like), which the experiment gives to models that train with fixed hard
  negatives. Neither scoring mode can name an item outside the catalog;
* ``choice="text"``: the LLM writes a title (one order), which is mapped back to the candidates, then to the whole
  catalog (exact / contained / fuzzy title match); answers that map to nothing, or to an item the user already has,
  are rejected and counted.

Budget: every targeted user with a history is prompted (``max_users`` > 0 samples that many), with
``picks_per_user`` picks each (0 = as many as the budget needs, at most half the candidates), until ``max_calls``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from recaug.augment.base import Target, register
from recaug.augment.graph.train_model import fit_train_model
from recaug.augment.llm.llm_choice import cyclic_orders, debiased_choice
from recaug.augment.llm.llm_common import (
    ACCEPTED,
    CALIBRATION_OPTIONS,
    CALIBRATION_WHAT,
    LLMAugmenter,
    combined_cost,
)
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn, sub_progress
from recaug.data.dataset import TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, POLARITY, USER
from recaug.text.llm.base import Scores
from recaug.text.llm.parsing import TitleMatcher

CHOICE_MODES = ("logprob", "continuation", "text")
NORMALISATIONS = ("pmi", "length", "none")


@register
class LLMInteractionsAugmenter(LLMAugmenter):
    """The LLM chooses liked items among training-only candidates; see the module docstring."""

    name = "llm-interactions"
    description = "LLMRec-style: an LLM picks the items each user will like among a base recommender's candidates"
    family = "llm"
    param_choices: ClassVar[dict[str, tuple[str, ...]]] = {"choice": CHOICE_MODES, "normalise": NORMALISATIONS}
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "max_users": [Interval(int, 0, None)],
        "n_candidates": [Interval(int, 2, None)],
        "candidate_model": [str],
        "picks_per_user": [Interval(int, 0, None)],
        "shuffle_candidates": [bool],
        "n_orders": [Interval(int, 1, None)],
        "negatives": [bool],
    }

    def __init__(
        self,
        *,
        max_users: int = 0,
        n_candidates: int = 10,
        candidate_model: str = "itemknn",
        picks_per_user: int = 0,
        choice: str = "continuation",
        shuffle_candidates: bool = True,
        n_orders: int = 3,
        negatives: bool = False,
        normalise: str = "pmi",
        **shared: Any,
    ) -> None:
        super().__init__(**shared)
        self.max_users = max_users
        self.n_candidates = n_candidates
        self.candidate_model = candidate_model
        self.picks_per_user = picks_per_user
        self.choice = choice
        self.shuffle_candidates = shuffle_candidates
        self.n_orders = n_orders
        self.negatives = negatives
        self.normalise = normalise

    def _fit(self, train: TrainingData) -> None:
        super()._fit(train)  # parameters were checked against _parameter_constraints by fit
        if self.choice in ("logprob", "continuation"):
            # A server that cannot score is refused before any work is done; continuation scores are compared
            # across calls (PMI), which a lettered choice cannot give.
            self.llm_.check_scoring(likelihoods=self.choice == "continuation")
        self.ranker_ = fit_train_model(train, model=self.candidate_model, seed=self.seed)

    # --- the plan -----------------------------------------------------------------------
    def orders_per_user(self) -> int:
        return min(self.n_orders, self.n_candidates) if self.choice == "logprob" else 1

    def calibration_calls(self, n_users: int, target: Target) -> int:
        """Content-free calls of the ``pmi`` continuation mode: every distinct candidate title once, in chunks."""
        if self.choice != "continuation" or self.normalise != "pmi" or n_users == 0:
            return 0
        return -(-min(n_users * self.n_candidates, len(target.items)) // CALIBRATION_OPTIONS)

    def picks_for(self, budget: int, n_users: int) -> int:
        """Picks per user: the set value, or what ``budget`` needs, at most half the candidates."""
        wanted = self.picks_per_user or -(-budget // max(n_users, 1))
        return max(1, min(wanted, self.n_candidates // 2)) if self.choice != "text" else 1

    def eligible_users(self, target: Target) -> np.ndarray:
        users = target.users[self.train_.user_degree()[target.users] > 0]
        return users if not self.max_users else users[: self.max_users]

    def planned_calls(self, budget: int, target: Target) -> int:
        users = len(self.eligible_users(target))
        return users * self.orders_per_user() + self.calibration_calls(users, target)

    def users_within_cap(self, eligible: int, target: Target) -> int:
        """How many users fit under ``max_calls``, with the calibration calls they need."""
        fits = min(eligible, self.call_cap() // self.orders_per_user())
        while fits and fits * self.orders_per_user() + self.calibration_calls(fits, target) > self.call_cap():
            fits -= max(1, self.calibration_calls(fits, target))
        return max(fits, 0)

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
        self._counts: dict[str, int] = {}
        per_user_calls = self.orders_per_user()
        eligible = self.eligible_users(target)
        fits = self.users_within_cap(len(eligible), target)
        # Under the cap, a seeded random subset of the users is prompted (not the lowest ids).
        users = np.sort(rng.choice(eligible, size=fits, replace=False)) if fits < len(eligible) else eligible
        k = self.picks_for(budget, len(users))
        per_user = self.candidates(users, target) if len(users) else []
        jobs = [
            self._job(int(user), rng.permutation(cands) if self.shuffle_candidates else cands)
            for user, cands in zip(users, per_user, strict=True)
            if len(cands) >= 2
        ]
        calibration_calls = 0
        if self.choice == "continuation":
            answers = self.score_in_batches(
                [job[4][0] for job in jobs],
                [[str(self.titles_[c]) for c in job[2]] for job in jobs],
                sub_progress(progress, 0.0, 0.95),
                "users scored",
            )
            normalised, calibration_calls = self._normalised(jobs, answers, sub_progress(progress, 0.95, 1.0))
            rows = [self._decide_by_scores(job, [answer], k) for job, answer in zip(jobs, normalised, strict=True)]
        elif self.choice == "logprob":
            prompts = [p for job in jobs for p in job[4]]
            options = [[str(self.titles_[c]) for c in job[2][o]] for job in jobs for o in job[3]]
            scored = iter(self.score_in_batches(prompts, options, progress, "prompts scored", group=per_user_calls))
            rows = [self._decide_by_scores(job, [next(scored) for _ in job[3]], k) for job in jobs]
        else:
            generated = self.generate_in_batches([job[4][0] for job in jobs], 24, progress, "users answered")
            rows = [self._decide_by_text(job, answer) for job, answer in zip(jobs, generated, strict=True)]
        picks = [r for user_rows in rows for r in user_rows if r[5] > 0]
        negatives = [r for user_rows in rows for r in user_rows if r[5] < 0]
        self._end(
            {
                "users_targeted": len(eligible),
                "users_prompted": len(jobs),
                "calls_capped": fits < len(eligible),
                "choice": self.choice,
                "orders_per_prompt": per_user_calls,
                "picks_per_user": k,
                **self._choice_counts(),
                **({"normalise": self.normalise, "calibration_calls": calibration_calls} if calibration_calls else {}),
                "negatives_proposed": len(negatives),
                **(
                    {"picks_limited": f"at most {k} picks per user from {self.n_candidates} candidates"}
                    if k * len(jobs) < budget
                    else {}
                ),
            }
        )
        if not picks:
            return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE, "prompt_id"])
        # Rank by rank across users (each user's first pick before anyone's second), best first within a rank.
        picks.sort(key=lambda r: (r[4], -r[2]))
        frame = self.rows_frame(*[list(col) for col in zip(*picks, strict=True)][:4])
        if self.choice != "text" and self.negatives:
            negatives.sort(key=lambda r: (r[4], -r[2]))
            negative_frame = self.rows_frame(*[list(col) for col in zip(*negatives, strict=True)][:4])
            frame = pd.concat([frame.assign(**{POLARITY: 1}), negative_frame.assign(**{POLARITY: -1})])
        return frame.reset_index(drop=True)

    def _job(self, user: int, cands: np.ndarray) -> tuple:
        """One user's prompt(s): (user, history, candidates, candidate orders, prompts)."""
        history = self.recent_history(user)
        orders = cyclic_orders(len(cands), self.orders_per_user())
        if self.choice == "continuation":
            # Nothing is listed, so no position to prefer; the options go to the backend in one canonical order
            # (by item index) because bfloat16 rounding moves scores by up to ~0.4 nats with the option order.
            cands = np.sort(cands)
            return (user, history, cands, orders, [self.continuation_prompt(history)])
        return (user, history, cands, orders, [self.prompt(history, cands[o]) for o in orders])

    def candidate_scores(self, users: np.ndarray, candidates: list[np.ndarray], progress: ProgressFn) -> np.ndarray:
        """(n_users x n_candidates) scores of each user's candidates, in the given order, under this scoring mode
        (``continuation`` or ``logprob``); NaN where a call failed. The skill check ranks with these."""
        if self.choice == "text":
            raise ValueError("candidate_scores needs a scoring mode (choice='continuation' or 'logprob')")
        jobs = [self._job(int(u), np.asarray(c, dtype=np.int64)) for u, c in zip(users, candidates, strict=True)]
        self.calibration_errors_: dict[int, str] = {}
        prompts = [p for job in jobs for p in job[4]]
        options = [[str(self.titles_[c]) for c in job[2][o]] for job in jobs for o in job[3]]
        group = self.orders_per_user()
        answers = self.score_in_batches(prompts, options, sub_progress(progress, 0.0, 0.95), "skill", group=group)
        if self.choice == "continuation":
            answers, _ = self._normalised(jobs, answers, sub_progress(progress, 0.95, 1.0))
        out = np.full((len(jobs), max((len(c) for c in candidates), default=0)), np.nan)
        calibration = getattr(self, "calibration_errors_", {})
        # Per user, why its scores are missing (None when they are all there): a failed call is no answer, and the
        # skill check counts and names it rather than reading the NaNs as the model's opinion.
        self.candidate_errors_: list[str | None] = []
        for k, job in enumerate(jobs):
            matrix = np.full((len(job[3]), len(job[2])), np.nan)
            for j, order in enumerate(job[3]):
                matrix[j, order] = answers[k * group + j].logprobs
            by_item = dict(zip(job[2].tolist(), matrix.mean(axis=0), strict=True))
            out[k, : len(candidates[k])] = [by_item[int(c)] for c in candidates[k]]
            own = next((a.error for a in answers[k * group : (k + 1) * group] if a.error is not None), None)
            missing = np.isnan(out[k, : len(candidates[k])]).any()
            calibrated = next((calibration[int(c)] for c in job[2] if int(c) in calibration), None)
            self.candidate_errors_.append(
                None if not missing else own or (calibrated and f"calibration {calibrated}") or "no usable scores"
            )
        return out

    def _normalised(self, jobs: list[tuple], answers: list[Scores], progress: ProgressFn) -> tuple[list[Scores], int]:
        """(the continuation answers with normalised scores, calibration calls made).

        A title's log-likelihood mixes "this user would like it" with "this string is likely at all": short,
        common titles win whatever the history. ``length`` divides by the title's tokens; ``pmi`` subtracts the
        title's log-likelihood after a content-free prompt (Holtzman et al. 2021, "surface form competition"),
        so what is left is what the history adds.
        """
        if self.normalise == "none" or not jobs:
            return answers, 0
        if self.normalise == "length":
            tokens = self.llm_.count_tokens([str(t) for t in self.titles_])
            return [replace(a, logprobs=a.logprobs / tokens[job[2]]) for job, a in zip(jobs, answers, strict=True)], 0
        items = sorted({int(c) for job in jobs for c in job[2]})
        chunks = [items[i : i + CALIBRATION_OPTIONS] for i in range(0, len(items), CALIBRATION_OPTIONS)]
        neutral = self.continuation_prompt(None)
        calibration = self.score_in_batches(
            [neutral] * len(chunks),
            [[str(self.titles_[c]) for c in chunk] for chunk in chunks],
            progress,
            CALIBRATION_WHAT,
        )
        baseline = np.zeros(self.train_.n_items)
        self.calibration_errors_ = {}
        for chunk, answer in zip(chunks, calibration, strict=True):
            baseline[chunk] = answer.logprobs  # NaN where the call failed: those users get no pick ("no signal")
            if answer.error is not None:
                self.calibration_errors_.update(dict.fromkeys(chunk, answer.error))
        return [replace(a, logprobs=a.logprobs - baseline[job[2]]) for job, a in zip(jobs, answers, strict=True)], len(
            chunks
        )

    def _choice_counts(self) -> dict[str, Any]:
        """Position-bias diagnostics over the scored prompts (see :mod:`recaug.augment.llm.llm_choice`)."""
        counts = getattr(self, "_counts", {})
        if self.choice == "continuation":  # candidates are never listed: no position, no order to flip
            return {"flip_rate": 0.0, "picks_rejected_unstable": 0}
        orders = max(counts.get("orders", 0), 1)
        users = max(counts.get("users", 0), 1)
        return {
            "first_position_pick_rate": round(counts.get("first", 0) / orders, 4),
            "flip_rate": round(counts.get("flipped", 0) / users, 4),
            "picks_rejected_unstable": counts.get("unstable", 0),
        }

    def _decide_by_scores(self, job: tuple, answers: list[Scores], k: int) -> list[tuple]:
        user, history, cands, orders, prompts = job
        # Log-likelihoods back in candidate order: row j, column c = candidate c scored under order j.
        matrix = np.full((len(orders), len(cands)), np.nan)
        for j, (order, answer) in enumerate(zip(orders, answers, strict=True)):
            matrix[j, order] = answer.logprobs
        error = next((a.error for a in answers if a.error is not None), None)
        choice = debiased_choice(matrix, orders, k)
        counts = self._counts
        if error is None:
            for key, value in (
                ("orders", len(orders)),
                ("users", 1),
                ("first", choice.first_position_picks),
                ("flipped", int(choice.flipped)),
                ("unstable", choice.rejected_picks),
            ):
                counts[key] = counts.get(key, 0) + value
        if self.choice == "continuation":  # one unlisted scoring; say how the scores were normalised
            response = f"most likely continuation ({self.normalise}): {self.titles_[cands[choice.per_order_top[0]]]}"
        else:
            response = "; ".join(
                a.raw or f"order {j + 1}: {self.titles_[cands[choice.per_order_top[j]]]}" for j, a in enumerate(answers)
            )
        response += f" | {'probabilities' if self.choice == 'continuation' else 'averaged'}: " + "; ".join(
            f"{self.titles_[c]}: {p:.3f}" for c, p in zip(cands, choice.probabilities, strict=True)
        )
        common = {
            "prompt": prompts[0],
            "response": response,
            "cost": combined_cost(answers),
            "user": user,
            "history": history,
            "candidates": cands,
        }
        if error is not None:
            self.record(**common, accepted=False, reason=f"backend error: {error}")
            return []
        if not choice.picks:
            self.record(**common, accepted=False, reason=choice.reason)
            return []
        probs = choice.probabilities
        prompt_id = self.record(
            **common,
            item=int(cands[choice.picks[0]]),
            parsed=", ".join(self.item_ids(cands[choice.picks])),
            confidence=float(probs[choice.picks[0]]),
            accepted=True,
            reason=ACCEPTED,
        )
        out = [(user, int(cands[c]), float(probs[c]), prompt_id, rank, 1) for rank, c in enumerate(choice.picks)]
        out += [
            (user, int(cands[c]), float(1.0 - probs[c]), prompt_id, rank, -1)
            for rank, c in enumerate(choice.negatives[: len(choice.picks)])
        ]
        return out

    def _decide_by_text(self, job: tuple, answer: Any) -> list[tuple]:
        user, history, cands, _, (prompt,) = job
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
        return [(user, item, float(found.score), prompt_id, 0, 1)]
