"""What the four LLM augmenters share: the backend, training histories, prompt text, the provenance log, info.

* Prompts are built only from :class:`TrainingData` (a user's training history and the catalog), so no prompt can
  carry a validation or test interaction.
* Every prompt gets a ``prompt_id`` (a hash of the augmenter and the prompt), carried by the synthetic rows it
  produced, so each row can be traced back to the exact prompt and answer in the log.
* The log has one row per LLM call (``LOG_COLUMNS``). After the base class has cleaned and truncated the rows,
  ``output_user_ids``/``output_item_ids`` list the pairs each prompt finally contributed, and a prompt whose pairs
  were all dropped is marked rejected with the reason.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Unpack

import numpy as np
import pandas as pd

from recaug.augment.base import (
    Augmenter,
    AugmentOptions,
    AugmentResult,
    NotFittedError,
    Target,
    resolve_budget,
    resolve_target,
)
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn, no_progress, sub_progress
from recaug.data.dataset import TrainingData
from recaug.data.schema import ITEM, POLARITY, TIMESTAMP, USER
from recaug.text.llm.base import Generation, LLMBackend, Scores
from recaug.text.llm.factory import create_backend
from recaug.text.llm.lora import TUNED_LLM, tuned_llm_adapter
from recaug.text.llm.memorisation import kept_check
from recaug.text.llm.parsing import display_title
from recaug.text.tuning_cost import TUNING, tuning_costs

if TYPE_CHECKING:
    from recaug.augment.llm.skill import SkillReport

LOG_COLUMNS = [
    "prompt_id",
    "augmenter",
    "user_id",
    "item_id",
    "history_item_ids",
    "candidate_item_ids",
    "prompt",
    "response",
    "parsed_choice",
    "confidence",
    "accepted",
    "reason",
    "output_user_ids",
    "output_item_ids",
    "tokens_in",
    "tokens_out",
    "latency_s",
    "cache_hit",
    "error",
]
ACCEPTED = "accepted"
CALIBRATION_OPTIONS = 32  # candidate titles scored per content-free calibration call (continuation + PMI)
# How progress names the calibration calls ("16/17 calibrated" explained nothing): what they are and why.
CALIBRATION_WHAT = "calibration calls (titles scored without a history, so common titles do not win by themselves)"
DROPPED = "dropped after cleaning (over budget, duplicate or already in training)"


def make_prompt_id(augmenter: str, prompt: str) -> str:
    """Short, stable id of a prompt: the same prompt always gets the same id."""
    return f"{augmenter}:{hashlib.sha256(prompt.encode('utf-8')).hexdigest()[:12]}"


def softmax(logprobs: np.ndarray) -> np.ndarray:
    """Normalised probabilities from log-likelihoods (uniform when all are -inf, NaN when any is NaN)."""
    values = np.asarray(logprobs, dtype=np.float64)
    if len(values) == 0 or np.isnan(values).any():
        return np.full(len(values), np.nan)
    top = values.max()
    if not np.isfinite(top):
        return np.full(len(values), 1.0 / len(values))
    weights = np.exp(values - top)
    return weights / weights.sum()


def cost_fields(record: Generation | Scores) -> dict[str, Any]:
    """The per-call cost columns of a log row."""
    return {
        "tokens_in": record.tokens_in,
        "tokens_out": record.tokens_out,
        "latency_s": round(record.latency, 4),
        "cache_hit": record.cache_hit,
        "error": record.error or "",
    }


def combined_cost(records: Sequence[Scores]) -> Scores:
    """One log row's cost for a decision that took several calls (e.g. one prompt in several candidate orders)."""
    return Scores(
        np.zeros(0),
        tokens_in=sum(r.tokens_in for r in records),
        tokens_out=sum(r.tokens_out for r in records),
        latency=sum(r.latency for r in records),
        cache_hit=all(r.cache_hit for r in records),
        error=next((r.error for r in records if r.error is not None), None),
    )


def finalise_log(records: list[dict[str, Any]], rows: pd.DataFrame, *, reconcile: bool = True) -> pd.DataFrame:
    """The log as a DataFrame, reconciled with the rows that survived cleaning (see the module docstring).

    ``reconcile=False`` (augmenters that add no rows, e.g. ``llm-init``): a prompt stays accepted as recorded.
    """
    log = pd.DataFrame([{c: r.get(c) for c in LOG_COLUMNS} for r in records], columns=LOG_COLUMNS)
    if log.empty:
        return log
    if not reconcile:
        rows = rows.iloc[:0]
    if POLARITY in rows.columns:  # a prompt is accepted for what it added; its negatives ride along
        rows = rows[rows[POLARITY] >= 0]
    kept = rows[rows["prompt_id"] != ""].groupby("prompt_id", sort=False)
    users = kept[USER].agg(list).to_dict() if len(rows) else {}
    items = kept[ITEM].agg(list).to_dict() if len(rows) else {}
    log["output_user_ids"] = [users.get(p, []) for p in log["prompt_id"]]
    log["output_item_ids"] = [items.get(p, []) for p in log["prompt_id"]]
    produced = log["output_item_ids"].map(len) > 0
    if reconcile:
        lost = log["accepted"].astype(bool) & ~produced
        log.loc[lost, "reason"] = DROPPED
        log["accepted"] = produced
    else:
        log["accepted"] = log["accepted"].astype(bool)
    for column in ("tokens_in", "tokens_out"):
        log[column] = log[column].fillna(0).astype(int)
    log["cache_hit"] = log["cache_hit"].fillna(False).astype(bool)
    return log


def log_summary(log: pd.DataFrame) -> dict[str, Any]:
    """Prompt-level counts for ``AugmentResult.info``: accepted, rejected, rejection rate and reasons."""
    if log.empty:
        return {"prompts": 0, "prompts_accepted": 0, "rejection_rate": 0.0, "rejection_reasons": {}}
    accepted = int(log["accepted"].sum())
    reasons = log.loc[~log["accepted"], "reason"].str.split(":").str[0].value_counts()
    return {
        "prompts": len(log),
        "prompts_accepted": accepted,
        "rejection_rate": round(1 - accepted / len(log), 4),
        "rejection_reasons": {str(k): int(v) for k, v in reasons.items()},
    }


class LLMAugmenter(Augmenter):
    """Base of the ``llm-*`` augmenters: backend settings, histories, batching, the log and the cost info.

    Parameters shared by all of them (the Augment page and the CLI set these by name):

    * ``backend``: ``"local"`` (transformers; packaged SmolLM2-135M-Instruct unless ``model`` names a local HF
      folder) or ``"openai"`` (an OpenAI-compatible server at ``base_url``; the key comes from the environment);
    * ``model``, ``base_url``: see above (``model="tuned"``: the packaged SmolLM2 with LoRA adapters trained at fit
      on the training split's histories, :mod:`recaug.text.llm.lora`; its cost is in ``info["tuning"]``);
      credentials typed into ``base_url`` are never sent unless
      ``key_from_url`` (then the URL's password, or user, or ``key=`` value is the API key);
    * ``batch_size``: prompts per backend call (local batch; concurrent requests for a server); one progress step
      per batch;
    * ``timeout``: seconds a server request may take before it is retried (the ``openai`` backend);
    * ``temperature``: 0 is greedy (deterministic); above 0 samples with the augmenter's seed;
    * ``history_size``: how many of a user's most recent training items a prompt lists;
    * ``item_noun``: what the items are called in prompts ("movie", "product", ...);
    * ``max_calls``: the most LLM calls (prompts scored or generated, cache hits included) one augmentation may
      make; 0 = no cap. Every augmenter plans the calls that cover all targeted users (or items) and
      stops at this cap; ``estimate`` says what the plan costs before running, and ``info["budget_note"]`` says
      why a budget was not filled;
    * ``min_skill``, ``insist``, ``skill_users``: the skill check run before any call is spent
      (:mod:`recaug.augment.llm.skill`; ``"off"`` here, ``"encoder"`` from the CLI and the Augment page): an LLM
      that fails it makes no calls (its call cap becomes 0) unless ``insist``.
    """

    family = "llm"

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "backend": [str, LLMBackend],
        "model": [str, None],
        "base_url": [str, None],
        "batch_size": [Interval(int, 1, None)],
        "temperature": [Interval(float, 0.0, None)],
        "history_size": [Interval(int, 1, None)],
        "item_noun": [str],
        "max_calls": [Interval(int, 0, None)],
        "timeout": [Interval(float, 0.0, None, closed="neither")],
        "min_skill": [str, Interval(float, 0.0, 1.0, closed="neither")],
        "insist": [bool],
        "skill_users": [Interval(int, 10, None)],
        "key_from_url": [bool],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        backend: str | LLMBackend = "local",
        model: str | None = None,
        base_url: str | None = None,
        batch_size: int = 8,
        temperature: float = 0.0,
        history_size: int = 10,
        item_noun: str = "item",
        max_calls: int = 2000,
        timeout: float = 60.0,
        min_skill: str | float = "off",
        insist: bool = False,
        skill_users: int = 100,
        key_from_url: bool = False,
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.min_skill = min_skill
        self.insist = insist
        self.skill_users = skill_users
        self.key_from_url = key_from_url
        self.max_calls = max_calls
        self.timeout = timeout
        self.backend = backend
        self.model = model
        self.base_url = base_url
        self.batch_size = batch_size
        self.temperature = temperature
        self.history_size = history_size
        self.item_noun = item_noun

    # --- set-up -------------------------------------------------------------------------
    def _fit(self, train: TrainingData) -> None:
        """Build the backend (a clear error now if a server is unreachable) and the per-user histories."""
        options: dict[str, Any] = {"batch_size": self.batch_size}
        if self.backend == "openai":  # retries come from an allowance of max_calls (recaug.text.llm.budget)
            options.update(timeout=float(self.timeout), max_calls=int(self.max_calls), key_from_url=self.key_from_url)
        self.titles_ = np.array([display_title(t) for t in train.items["title"]], dtype=object)
        self.texts_ = train.items["text"].astype(str).to_numpy()
        # Oldest first per user; without timestamps the file order stands in for time.
        order = ["user_idx", TIMESTAMP] if TIMESTAMP in train.interactions.columns else ["user_idx"]
        rows = train.interactions.sort_values(order, kind="stable")
        items = rows["item_idx"].to_numpy()
        bounds = np.searchsorted(rows["user_idx"].to_numpy(), np.arange(train.n_users + 1))
        self.history_items_ = [items[bounds[u] : bounds[u + 1]] for u in range(train.n_users)]
        model = self.model
        if model == TUNED_LLM:  # the packaged SmolLM2 with LoRA adapters trained on this split's histories
            options["adapter"], model = self.tuned_llm_adapter(train), None
        self.llm_ = create_backend(self.backend, model, self.base_url, **options)

    def tuned_llm_adapter(self, train: TrainingData) -> Path:
        """The LoRA adapter of ``model="tuned"``, trained on (or cached for) this training split's histories with
        the continuation prompt (:mod:`recaug.text.llm.lora`); its cost goes to ``info["tuning"]``."""
        return tuned_llm_adapter(
            self.backend,
            self.history_items_,
            self.titles_,
            self.continuation_prompt,
            history_size=self.history_size,
            seed=int(self.seed),
            matrix=train.matrix,
            info=self.info_,
        )

    def continuation_prompt(self, history: np.ndarray | None) -> str:
        """The candidate-free prompt: the history only, each candidate title is scored as its continuation (and
        the tuned LLM learns to continue it). ``history=None`` is the content-free prompt of the ``pmi``
        calibration."""
        noun = self.item_noun
        liked = self.history_block(history) if history is not None else "- N/A"
        return f"A user liked these {noun}s (oldest first):\n{liked}\nThe next {noun} they will enjoy is:"

    def recent_history(self, user: int) -> np.ndarray:
        """The user's most recent ``history_size`` training items (item indices), oldest first."""
        return np.asarray(self.history_items_[user][-self.history_size :], dtype=np.int64)

    def history_block(self, items: Sequence[int] | np.ndarray) -> str:
        """A bullet list of item titles for a prompt."""
        return "\n".join(f"- {self.titles_[i]}" for i in items)

    def item_ids(self, items: Sequence[int] | np.ndarray) -> list[str]:
        return [str(x) for x in self.train_.item_ids.to_numpy()[np.asarray(items, dtype=np.int64)]]

    def pick_users(self, target: Target, limit: int, rng: np.random.Generator) -> np.ndarray:
        """Target users with a training history, a seeded sample of ``limit`` of them when there are more."""
        users = target.users[self.train_.user_degree()[target.users] > 0]
        if len(users) > limit:
            users = np.sort(rng.choice(users, size=limit, replace=False))
        return users

    def candidate_scores(self, users: np.ndarray, candidates: list[np.ndarray], progress: ProgressFn) -> np.ndarray:
        """(n_users x n_candidates) scores of each user's candidates (the skill check ranks with these); only
        augmenters that pick among candidates (``llm-interactions``) can."""
        raise NotImplementedError(f"{self.name} does not score candidates")

    # --- the call budget -------------------------------------------------------------------
    def call_cap(self) -> int:
        """The most calls this augmentation may make (a very large number when uncapped; 0 when the skill check
        failed and the user did not insist)."""
        if getattr(self, "skill_blocked_", False):
            return 0
        return int(self.max_calls) if self.max_calls else 2**62

    def skill_check_calls(self, target: Target | None = None) -> int:
        """Calls the skill check will make (0 when it is off): one per user it can hold an item out for (at most
        ``skill_users``; ``target``'s users with two or more training items, as the check picks them) plus the PMI
        calibration of their candidates. Counting ``skill_users`` alone said 132 where 70 users made 87."""
        from recaug.augment.llm.skill import SKILL_CANDIDATES, parse_min_skill

        if parse_min_skill(self.min_skill) == "off":
            return 0
        users = self.skill_users
        if target is not None and hasattr(self, "train_"):
            degree = self.train_.user_degree()
            pool = int((degree[target.users] >= 2).sum())
            users = min(users, pool if pool >= min(20, users) else int((degree >= 2).sum()))
            items = min(users * SKILL_CANDIDATES, int(self.train_.item_visible().sum()))
        else:
            items = users * SKILL_CANDIDATES
        return users + -(-items // CALIBRATION_OPTIONS)

    def run_skill_check(self, budget: int, target: Target, progress: ProgressFn) -> SkillReport | None:
        """The skill check for ``target``'s users; sets ``skill_blocked_``. None when ``min_skill`` is off or the
        augmentation would make no call (``llm-init`` without enrichment)."""
        from recaug.augment.llm.skill import check_skill, parse_min_skill

        rule = parse_min_skill(self.min_skill)
        report = None
        self.skill_blocked_ = False
        if rule != "off" and self.planned_calls(budget, target) > 0:
            report = check_skill(self, rule=rule, users=target.users, n_users=self.skill_users, progress=progress)
        self.skill_blocked_ = report is not None and not report.passed and not self.insist
        return report

    def _scores_options(self) -> bool:
        """Whether this method's calls score options, as the skill check's do (``llm-interactions``)."""
        return type(self).candidate_scores is not LLMAugmenter.candidate_scores

    def planned_calls(self, budget: int, target: Target) -> int:
        """LLM calls needed to fill ``budget`` rows for ``target`` before the cap (subclasses say how)."""
        raise NotImplementedError

    def estimate(
        self, budget: int | float, *, target: str | list[str] | None = None, probe_calls: int | None = None
    ) -> LLMEstimate:
        """Calls, tokens and seconds the augmentation would take, from a short measured probe on this backend.

        The probe runs the augmentation itself with ``max_calls`` set to ``probe_calls`` (one batch by default)
        and the response cache off, so it measures real model calls; the model is loaded first so the load is not
        counted. Costs per call are scaled to the planned number of calls.
        """
        if not hasattr(self, "train_"):
            raise NotFittedError(f"{self.name}: call fit(train) before estimate()")
        n = resolve_budget(budget, len(self.train_.interactions))
        resolved = resolve_target(self.train_, target if target is not None else self.target)
        wanted = self.planned_calls(n, resolved)
        calls = min(wanted, self.call_cap())
        probe = max(1, min(int(probe_calls or self.batch_size), calls)) if calls else 0
        self.llm_.warm_up()
        saved = (self.max_calls, self.min_skill, self.llm_.cache, dict(self.info_), dict(self.artifacts_))
        self.max_calls, self.min_skill, self.llm_.cache = probe, "off", None
        started, usage_before = time.perf_counter(), self.llm_.usage.snapshot()
        try:
            info = self.augment(n, target=target).info if probe else {}
        finally:
            self.max_calls, self.min_skill, self.llm_.cache, self.info_, self.artifacts_ = saved
        seconds = time.perf_counter() - started
        made = max(int(info.get("calls", 0)), 1)
        per_call = {k: info.get(k, 0) / made for k in ("tokens_in", "tokens_out")}
        # Only the time spent waiting for the model scales with the calls; the rest (candidates, prompts) is paid
        # once. Scaling it all made a 10.8 s job "1.5 min" (issue 20).
        busy = min(self.llm_.usage.since(usage_before)["busy_seconds"], seconds)
        return LLMEstimate(
            augmenter=self.name,
            backend=f"{self.llm_.kind} ({self.llm_.model_id})",
            calls=calls,
            calls_wanted=wanted,
            cap=int(self.max_calls),
            tokens_in=round(per_call["tokens_in"] * calls),
            tokens_out=round(per_call["tokens_out"] * calls),
            seconds=(seconds - busy) + busy / made * calls,
            probe_calls=int(info.get("calls", 0)),
            probe_seconds=seconds,
            skill_calls=(skill_calls := self.skill_check_calls(resolved)),
            # The check scores options; only a method that scores them measured what such a call takes.
            skill_seconds=busy / made * skill_calls if self._scores_options() else float("nan"),
            requests=int(self.llm_.usage.requests + self.llm_.usage.setup_requests),
            scoring=scoring if (scoring := self.llm_.scoring_description()) != "not probed yet" else "",
        )

    # --- calls ----------------------------------------------------------------------------
    def _begin(self) -> None:
        self._records: list[dict[str, Any]] = []
        self._usage_before = self.llm_.usage.snapshot()
        self._started = time.perf_counter()

    def score_in_batches(
        self, prompts: list[str], options: list[list[str]], progress: ProgressFn, what: str, *, group: int = 1
    ) -> list[Scores]:
        """``score_many`` one batch at a time, reporting progress after each batch. ``group`` consecutive prompts
        belong together (one user's candidate orders) and are never split across batches, so a local backend can
        encode their shared prefix once."""
        out: list[Scores] = []
        step = self.batch_size * max(1, group)
        for start in range(0, len(prompts), step):
            out.extend(self.llm_.score_many(prompts[start : start + step], options[start : start + step]))
            progress(min(len(out) / max(len(prompts), 1), 0.99), f"{self.name}: {len(out)}/{len(prompts)} {what}")
        return out

    def generate_in_batches(
        self, prompts: list[str], max_new_tokens: int, progress: ProgressFn, what: str
    ) -> list[Generation]:
        """``generate_records`` one batch at a time, reporting progress after each batch."""
        out: list[Generation] = []
        for start in range(0, len(prompts), self.batch_size):
            out.extend(
                self.llm_.generate_records(
                    prompts[start : start + self.batch_size], max_new_tokens, self.temperature, self.seed
                )
            )
            progress(min(len(out) / max(len(prompts), 1), 0.99), f"{self.name}: {len(out)}/{len(prompts)} {what}")
        return out

    def record(
        self,
        *,
        prompt: str,
        response: str,
        cost: Generation | Scores,
        user: int | None = None,
        item: int | None = None,
        history: Sequence[int] = (),
        candidates: Sequence[int] = (),
        parsed: str = "",
        confidence: float = float("nan"),
        accepted: bool,
        reason: str,
    ) -> str:
        """Add one log row; returns its prompt id for the synthetic rows the prompt produces."""
        prompt_id = make_prompt_id(self.name, prompt)
        self._records.append(
            {
                "prompt_id": prompt_id,
                "augmenter": self.name,
                "user_id": "" if user is None else str(self.train_.user_ids[user]),
                "item_id": "" if item is None else str(self.train_.item_ids[item]),
                "history_item_ids": self.item_ids(history),
                "candidate_item_ids": self.item_ids(candidates),
                "prompt": prompt,
                "response": response,
                "parsed_choice": parsed,
                "confidence": float(confidence),
                "accepted": accepted,
                "reason": reason,
                **cost_fields(cost),
            }
        )
        return prompt_id

    def record_text(self, answer: Generation, prompt: str, text: str, *, empty: str, **where: Any) -> str | None:
        """Log a free-text answer (a profile, keywords); returns its prompt id when the text is usable, else None."""
        ok = answer.error is None and bool(text)
        reason = ACCEPTED if ok else (f"backend error: {answer.error}" if answer.error else empty)
        prompt_id = self.record(
            prompt=prompt, response=answer.text, cost=answer, parsed=text, accepted=ok, reason=reason, **where
        )
        return prompt_id if ok else None

    def _end(self, extra: dict[str, Any] | None = None) -> None:
        """Cost and backend info for ``info_`` (rejections are added once the rows are final)."""
        used = self.llm_.usage.since(self._usage_before)
        calls = int(used["calls"])
        self.info_.update(
            {
                "backend": self.llm_.kind,
                "model": self.llm_.model_id,
                "calls": calls,
                "tokens_in": int(used["tokens_in"]),
                "tokens_out": int(used["tokens_out"]),
                "llm_seconds": round(used["seconds"], 3),
                "llm_wall_seconds": round(time.perf_counter() - self._started, 3),
                "backend_setup_seconds": round(self.llm_.setup_seconds, 3),
                "cache_hits": int(used["cache_hits"]),
                "cache_hit_rate": round(used["cache_hits"] / calls, 4) if calls else 0.0,
                "failures": int(used["failures"]),
                "retries": int(used["retries"]),
                # HTTP requests (retries included) and the server's set-up (model list, probe): cost.csv counts both.
                # All this backend sent, not only since _begin: the skill check's calls come before it.
                "requests": int(self.llm_.usage.requests),
                "setup_requests": int(self.llm_.usage.setup_requests),
                "max_calls": int(self.max_calls),
                # Credentials typed into the base URL (not sent): said once in the run's warnings, not per backend.
                **({"llm_url_note": note} if (note := getattr(self.llm_, "url_note", "")) else {}),
                **(extra or {}),
            }
        )

    def augment(
        self, budget: int | float, *, target: str | list[str] | None = None, progress: ProgressFn | None = None
    ) -> AugmentResult:
        """The skill check (when on), the base augmentation, then the log reconciled with the final rows and
        rejection counts in ``info``."""
        if not hasattr(self, "train_"):
            raise NotFittedError(f"{self.name}: call fit(train) before augment()")
        report = progress or no_progress
        resolved = resolve_target(self.train_, target if target is not None else self.target)
        n = resolve_budget(budget, len(self.train_.interactions))
        skill = self.run_skill_check(n, resolved, sub_progress(report, 0.0, 0.3))
        result = super().augment(budget, target=target, progress=sub_progress(report, 0.3 if skill else 0.0, 1.0))
        log = finalise_log(getattr(self, "_records", []), result.rows, reconcile=self.adds_rows)
        self.log_ = log
        result.log = log
        summary = log_summary(log)
        if skill is not None:
            summary.update(skill.info(), llm_insisted=bool(self.insist and not skill.passed))
            if skill.tuning:  # what the check's own tuned encoder cost, listed with the method's
                summary[TUNING] = [*tuning_costs(result.info), *skill.tuning]
        if self.llm_.kind != "local" and (check := kept_check(self.llm_.model_id, self.train_.items["title"])):
            summary["memorisation"] = check  # the last title-completion check of this model on this catalogue
        summary.update(budget_note({**result.info, **summary}))
        self.info_.update(summary)
        result.info.update(summary)
        return result

    def rows_frame(
        self, users: Sequence[int], items: Sequence[int], confidence: Sequence[float], prompt_ids: Sequence[str]
    ) -> pd.DataFrame:
        """Proposed rows (index space in, ids out) in the shape ``_propose`` returns."""
        return pd.DataFrame(
            {
                USER: self.train_.user_ids.to_numpy()[np.asarray(users, dtype=np.int64)].astype(str),
                ITEM: self.train_.item_ids.to_numpy()[np.asarray(items, dtype=np.int64)].astype(str),
                "confidence": np.asarray(confidence, dtype=np.float64),
                "prompt_id": list(prompt_ids),
            }
        )


@dataclass(frozen=True)
class LLMEstimate:
    """What an LLM augmentation will cost, measured on a short probe (see :meth:`LLMAugmenter.estimate`)."""

    augmenter: str
    backend: str
    calls: int  # calls it will make (the plan, capped)
    calls_wanted: int  # calls that would cover every targeted user or item without the cap
    cap: int  # max_calls (0 = none)
    tokens_in: int
    tokens_out: int
    seconds: float
    probe_calls: int
    probe_seconds: float
    skill_calls: int = 0  # the skill check's calls before any spending (min_skill not off)
    skill_seconds: float = 0.0  # ... and their time, at the probe's measured seconds per call
    requests: int = 0  # HTTP requests the estimate itself sent (model list, probe, measured calls); 0 locally
    scoring: str = ""  # how the backend scores options (a server's probed mode), shown before the run

    def line(self) -> str:
        """One line for the CLI and the Augment page."""
        capped = (
            f" (cap {self.cap:,}; {self.calls_wanted:,} would cover every targeted user or item)"
            if self.calls < self.calls_wanted
            else ""
        )
        return (
            f"{self.augmenter}: about {self.calls:,} LLM calls{capped}, {self.tokens_in + self.tokens_out:,} tokens, "
            f"{_duration(self.seconds)} on {self.backend} (measured on {self.probe_calls} calls in "
            f"{self.probe_seconds:.1f} s; cached answers make re-runs faster)"
            + (
                f", plus a skill check of about {self.skill_calls:,} calls"
                + (f" and {_duration(self.skill_seconds)}" if np.isfinite(self.skill_seconds) else "")
                + " first (one check per training split, shared by the llm-* methods; cached answers cost nothing)"
                if self.skill_calls
                else ""
            )
            + (f"; options are scored by {self.scoring}" if self.scoring and self.backend.startswith("openai") else "")
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


# How each caller names the override of a failed skill check in its messages (the CLI's flag, the page's checkbox).
INSIST_API = "set insist=True to spend anyway"


def skill_cost_phrase(info: dict[str, Any]) -> str:
    """What the skill check itself cost, for a sentence: it makes calls even when the augmentation then makes none,
    so "no LLM call was spent" would be untrue (a check reused from an earlier measurement cost this run nothing)."""
    if info.get("skill_cached"):
        return "reused from the check measured earlier, no new LLM calls"
    calls, hits = int(info.get("skill_calls", 0)), int(info.get("skill_cache_hits", 0))
    cached = f", {'all' if hits == calls else f'{hits:,}'} from the response cache" if hits else ""
    failed = int(info.get("skill_failed", 0))
    failures = f", {failed:,} users' calls failed ({info.get('skill_failures') or 'failed'})" if failed else ""
    return f"{calls:,} LLM calls in {float(info.get('skill_seconds', 0.0)):.1f} s{cached}{failures}"


def cap_phrase(info: dict[str, Any]) -> str:
    """Why the call cap left the budget unfilled, with the numbers that are true: the cap limits how many users (or
    items) are planned, keeping room for the worst-case calibration calls, so the calls made can stay below it; the
    skill check's calls are not counted against it."""
    cap, calls = int(info.get("max_calls", 0)), int(info.get("calls", 0))
    calibration = int(info.get("calibration_calls", 0))
    made = f"{calls:,} calls made" + (f", {calibration:,} of them calibration" if calibration else "")
    if "users_targeted" in info:
        whom = f"{int(info.get('users_prompted', 0)):,} of {int(info['users_targeted']):,} targeted users"
    elif "items_prompted" in info:
        whom = f"{int(info['items_prompted']):,} items"
    else:
        whom = f"{int(info.get('users_prompted', 0)):,} users"
    outside = (
        f"; the skill check's {int(info['skill_calls']):,} calls are not counted against the cap"
        if info.get("skill_calls") and not info.get("skill_cached")
        else ""
    )
    return f"the LLM-call cap ({cap:,}) left room to prompt only {whom} ({made}{outside})"


def budget_note(info: dict[str, Any], insist: str = INSIST_API) -> dict[str, Any]:
    """``budget_reached`` and, when the rows fall short of the budget, ``budget_note`` saying why. ``insist`` is how
    the caller's user overrides a failed skill check (its flag or checkbox), so each surface names its own."""
    budget, kept = int(info.get("budget", 0)), int(info.get("kept", 0))
    if kept >= budget:
        return {"budget_reached": True}
    if info.get("llm_skill_passed") is False and not info.get("llm_insisted"):
        outcome = (
            "the LLM's skill could not be measured (most of the check's calls failed)"
            if info.get("llm_skill_measured") is False
            else "the LLM failed the skill check"
        )
        why = f"{outcome} ({skill_cost_phrase(info)}), so no LLM call was spent on augmentation; {insist}"
        return {"budget_reached": False, "budget_note": f"budget not reached: {kept:,} of {budget:,} rows — {why}"}
    reasons = []
    if info.get("calls_capped"):
        reasons.append(cap_phrase(info))
    if info.get("rejection_rate"):
        reasons.append(f"{info['rejection_rate']:.0%} of prompts were rejected")
    if info.get("picks_limited"):
        reasons.append(str(info["picks_limited"]))
    if info.get("failures"):
        reasons.append(f"{info['failures']} LLM calls failed")
    why = "; ".join(reasons) or "the targeted users and items offered no more new pairs"
    return {"budget_reached": False, "budget_note": f"budget not reached: {kept:,} of {budget:,} rows ({why})"}


def skipped_variants(infos: Sequence[dict[str, Any]]) -> dict[str, str]:
    """``{variant: why}`` for LLM variants that made no row in any seed because their skill check stopped them: a
    verdict row for them compares the baseline with itself, so it must say "skipped", not "no change"."""
    by_variant: dict[str, list[dict[str, Any]]] = {}
    for info in infos:
        by_variant.setdefault(str(info.get("augmenter", "")), []).append(info)
    out = {}
    for name, seeds in by_variant.items():
        stopped = [i.get("llm_skill_passed") is False and not i.get("llm_insisted") for i in seeds]
        if all(stopped) and not any(int(i.get("kept", 0) or 0) for i in seeds):
            unmeasured = any(i.get("llm_skill_measured") is False for i in seeds)
            why = "its skill could not be measured" if unmeasured else "the LLM failed the skill check"
            out[name] = f"skipped: {why}, so it made 0 rows"
    return out


def llm_warnings(infos: Sequence[dict[str, Any]], insist: str = INSIST_API) -> list[str]:
    """Lines for the CLI and the UI: failed/retried LLM calls and unfilled budgets, one per augmenter and seed.
    The budget note is rebuilt with the caller's ``insist`` wording (its flag or checkbox)."""
    out = []
    notes = {str(info["llm_url_note"]): str(info.get("model", "")) for info in infos if info.get("llm_url_note")}
    out += [f"LLM server {model.partition('@')[2] or model}: {note}" for note, model in notes.items()]
    for info in infos:
        where = f"{info.get('augmenter', '?')}" + (f" (seed {info['seed']})" if "seed" in info else "")
        if info.get("failures"):
            out.append(
                f"{where}: {info['failures']} of {info.get('calls', 0)} LLM calls failed after "
                f"{info.get('retries', 0)} retries; their prompts added nothing (see llm_log.jsonl)"
            )
        if info.get("budget_note"):
            note = budget_note(info, insist).get("budget_note", info["budget_note"])
            out.append(f"{where}: {note}")
    return out


def llm_augmenter_params(names: Sequence[str], **settings: Any) -> dict[str, dict[str, Any]]:
    """Per-augmenter params for every ``llm-*`` name in ``names`` from shared settings (None = leave the default).

    Each setting goes only to augmenters that have a parameter of that name (e.g. ``max_users`` is not a parameter
    of ``llm-item-text``), so the CLI and the UI can pass one set of LLM options for all of them.
    """
    from recaug.augment.base import AUGMENTERS

    out: dict[str, dict[str, Any]] = {}
    for name in names:
        if not name.startswith("llm-") or name not in AUGMENTERS:
            continue
        accepted = set(AUGMENTERS.get(name).param_names())
        params = {k: v for k, v in settings.items() if v is not None and k in accepted}
        if params:
            out[name] = params
    return out
