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
from typing import Any

import numpy as np
import pandas as pd

from recaug.augment.base import Augmenter, AugmentResult, Target
from recaug.data.dataset import TrainingData
from recaug.data.schema import ITEM, TIMESTAMP, USER
from recaug.progress import ProgressFn
from recaug.text.llm.base import Generation, LLMBackend, Scores, create_backend
from recaug.text.llm.parsing import display_title

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


def finalise_log(records: list[dict[str, Any]], rows: pd.DataFrame) -> pd.DataFrame:
    """The log as a DataFrame, reconciled with the rows that survived cleaning (see the module docstring)."""
    log = pd.DataFrame([{c: r.get(c) for c in LOG_COLUMNS} for r in records], columns=LOG_COLUMNS)
    if log.empty:
        return log
    kept = rows[rows["prompt_id"] != ""].groupby("prompt_id", sort=False)
    users = kept[USER].agg(list).to_dict() if len(rows) else {}
    items = kept[ITEM].agg(list).to_dict() if len(rows) else {}
    log["output_user_ids"] = [users.get(p, []) for p in log["prompt_id"]]
    log["output_item_ids"] = [items.get(p, []) for p in log["prompt_id"]]
    produced = log["output_item_ids"].map(len) > 0
    lost = log["accepted"].astype(bool) & ~produced
    log.loc[lost, "reason"] = DROPPED
    log["accepted"] = produced
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
    * ``model``, ``base_url``: see above;
    * ``batch_size``: prompts per backend call (local batch; concurrent requests for a server); one progress step
      per batch;
    * ``temperature``: 0 is greedy (deterministic); above 0 samples with the augmenter's seed;
    * ``history_size``: how many of a user's most recent training items a prompt lists;
    * ``item_noun``: what the items are called in prompts ("movie", "product", ...).
    """

    family = "llm"

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
    ) -> None:
        super().__init__(seed=seed, target=target)
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
        self.llm_ = create_backend(self.backend, self.model, self.base_url, batch_size=self.batch_size)
        self.titles_ = np.array([display_title(t) for t in train.items["title"]], dtype=object)
        self.texts_ = train.items["text"].astype(str).to_numpy()
        # Oldest first per user; without timestamps the file order stands in for time.
        order = ["user_idx", TIMESTAMP] if TIMESTAMP in train.interactions.columns else ["user_idx"]
        rows = train.interactions.sort_values(order, kind="stable")
        items = rows["item_idx"].to_numpy()
        bounds = np.searchsorted(rows["user_idx"].to_numpy(), np.arange(train.n_users + 1))
        self.history_items_ = [items[bounds[u] : bounds[u + 1]] for u in range(train.n_users)]

    def recent_history(self, user: int) -> np.ndarray:
        """The user's most recent ``history_size`` training items (item indices), oldest first."""
        return np.asarray(self.history_items_[user][-self.history_size :], dtype=np.int64)

    def history_block(self, items: Sequence[int]) -> str:
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

    # --- calls ----------------------------------------------------------------------------
    def _begin(self) -> None:
        self._records: list[dict[str, Any]] = []
        self._usage_before = self.llm_.usage.snapshot()
        self._started = time.perf_counter()

    def score_in_batches(
        self, prompts: list[str], options: list[list[str]], progress: ProgressFn, what: str
    ) -> list[Scores]:
        """``score_many`` one batch at a time, reporting progress after each batch."""
        out: list[Scores] = []
        for start in range(0, len(prompts), self.batch_size):
            out.extend(
                self.llm_.score_many(prompts[start : start + self.batch_size], options[start : start + self.batch_size])
            )
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
                **(extra or {}),
            }
        )

    def augment(
        self, budget: int | float, *, target: str | list[str] | None = None, progress: ProgressFn | None = None
    ) -> AugmentResult:
        """The base augmentation, then the log reconciled with the final rows and rejection counts in ``info``."""
        result = super().augment(budget, target=target, progress=progress)
        log = finalise_log(getattr(self, "_records", []), result.rows)
        self.log_ = log
        result.log = log
        summary = log_summary(log)
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
