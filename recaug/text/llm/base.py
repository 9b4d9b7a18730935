"""The LLM backend contract: ``generate`` free text and ``score`` options by log-likelihood.

Every backend goes through the on-disk response cache (:mod:`recaug.text.llm.cache`) and counts its usage, so a
re-run is free and the dashboard can show calls, tokens, latency and cache hits. Subclasses implement only the
uncached batch operations ``_generate`` and ``_score``; failures come back as records with ``error`` set, so one bad
response never stops a run.
"""

from __future__ import annotations

import math
import re
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from recaug.core.errors import RecaugInputError
from recaug.text.llm.cache import ResponseCache

DEFAULT_SYSTEM_PROMPT = "You are a concise assistant for a recommender system."


@dataclass(frozen=True)
class Generation:
    """One generated answer and what it cost; ``error`` is set (and ``text`` empty) when the call failed."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency: float = 0.0
    cache_hit: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Scores:
    """Log-likelihood of each option given one prompt (NaN everywhere when the call failed).

    ``raw`` is what the backend answered in words (the generated choice in constrained-generation mode), kept for
    the provenance log.
    """

    logprobs: np.ndarray
    tokens_in: int = 0
    tokens_out: int = 0
    latency: float = 0.0
    cache_hit: bool = False
    error: str | None = None
    raw: str = ""


@dataclass
class Usage:
    """Running totals for one backend instance; ``since`` gives the cost of one augmentation."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    cache_hits: int = 0
    failures: int = 0
    retries: int = 0
    requests: int = 0  # HTTP requests a server backend sent for calls (retries included)
    setup_requests: int = 0  # ... and to set itself up: listing the models, the scoring probe
    busy_seconds: float = 0.0  # wall time spent waiting for the model or server (uncached calls), for estimates
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, record: Generation | Scores) -> None:
        with self._lock:
            self.calls += 1
            self.cache_hits += int(record.cache_hit)
            self.failures += int(record.error is not None)
            if not record.cache_hit:
                self.tokens_in += record.tokens_in
                self.tokens_out += record.tokens_out
                self.seconds += record.latency

    def count_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def add_busy(self, seconds: float) -> None:
        with self._lock:
            self.busy_seconds += seconds

    def count_request(self, *, setup: bool = False) -> None:
        """One HTTP request sent (a server backend calls this for every attempt, so ``cost.csv`` sees them all)."""
        with self._lock:
            if setup:
                self.setup_requests += 1
            else:
                self.requests += 1

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    def since(self, before: dict[str, float]) -> dict[str, float]:
        """Differences to an earlier :meth:`snapshot`."""
        now = self.snapshot()
        return {k: now[k] - before.get(k, 0) for k in now}


def failure_kind(error: str) -> str:
    """The cause of a failed call in a few words ("timeout", "HTTP 500", "connection error", ...), so failures can
    be counted by cause and named to the user instead of being read as the model's answers."""
    text = str(error)
    if status := re.search(r"HTTP \d{3}", text):
        return status.group(0)
    for cause in ("timeout", "connection error", "malformed JSON"):  # the cause, before what the guard did next
        if cause in text:
            return cause
    if "circuit open" in text:  # refused unsent: the server had failed the requests before
        return "not sent after repeated server failures"
    if "retry allowance spent" in text:
        return "retry allowance spent"
    return text.split(" after ")[0][:60] or "failed"


def failure_summary(errors: Sequence[str]) -> str:
    """ "timeout" or "HTTP 500 for 30, timeout for 11": the causes of ``errors``, most frequent first."""
    counts = Counter(failure_kind(e) for e in errors)
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{kind} for {n}" for kind, n in counts.most_common())


def failed_scores(n_options: int, error: str, *, latency: float = 0.0, raw: str = "") -> Scores:
    """A score record for a call that gave no usable answer."""
    return Scores(np.full(n_options, np.nan), latency=latency, error=error, raw=raw)


class LLMBackend(ABC):
    """``generate(prompts, ...) -> texts`` and ``score(prompt, options) -> log-likelihoods``, cached and counted.

    Prompts are user messages; each backend wraps them in its chat format. ``model_id`` names the model in the cache
    key, so two models never share answers.
    """

    kind: ClassVar[str]
    setup_seconds: float = 0.0  # time to build the backend (model load / server check), set by create_backend

    def __init__(
        self, *, model_id: str, system_prompt: str = DEFAULT_SYSTEM_PROMPT, cache: ResponseCache | bool = True
    ) -> None:
        self.model_id = model_id
        self.system_prompt = system_prompt
        self.cache = ResponseCache() if cache is True else (cache if isinstance(cache, ResponseCache) else None)
        self.usage = Usage()

    def __repr__(self) -> str:  # never shows credentials
        return f"{type(self).__name__}(model={self.model_id!r})"

    # --- public API -------------------------------------------------------------
    def warm_up(self) -> None:
        """Load what the first call would load (a local model), so timings measure calls, not the load."""
        return None

    def scoring_description(self) -> str:
        """How this backend scores options, in words for the reader (a server's way is probed, see openai_http)."""
        return "each option's log-likelihood under the model"

    def check_scoring(self, *, likelihoods: bool = False) -> None:
        """Raise :class:`RecaugInputError` now if this backend cannot score options reliably (a server is
        probed with known-answer questions; a local model always can).

        ``likelihoods=True`` also demands that scores be each option's own log-likelihood as a continuation of the
        prompt (what continuation scoring and PMI calibration compare across calls); a lettered choice only ranks the
        options shown together, so a caller needing likelihoods must not get one silently.
        """
        return None

    def count_tokens(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens per text, for length-normalised option scores. A backend without a tokenizer here (a server)
        estimates four characters per token, the usual rate for English BPE vocabularies."""
        return np.array([max(1, round(len(t) / 4)) for t in texts], dtype=np.int64)

    def generate(
        self, prompts: Sequence[str], max_new_tokens: int = 64, temperature: float = 0.0, seed: int = 0
    ) -> list[str]:
        """Generated texts, one per prompt (empty string where the call failed)."""
        return [g.text for g in self.generate_records(prompts, max_new_tokens, temperature, seed)]

    def score(self, prompt: str, options: Sequence[str]) -> np.ndarray:
        """Sum log-probability of each option's tokens as the answer to ``prompt``."""
        return self.score_many([prompt], [options])[0].logprobs

    def generate_records(
        self, prompts: Sequence[str], max_new_tokens: int = 64, temperature: float = 0.0, seed: int = 0
    ) -> list[Generation]:
        """Like :meth:`generate`, with tokens, latency, cache hit and error per prompt."""
        if max_new_tokens < 1:
            raise RecaugInputError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
        # Greedy decoding ignores the seed, so it stays out of the key and re-runs with other seeds hit the cache.
        seed_key = seed if temperature > 0 else 0
        params = {
            "max_new_tokens": max_new_tokens,
            "temperature": round(float(temperature), 6),
            "seed": seed_key,
            "system": self.system_prompt,
            **self._generate_key_params(),
        }
        keys = [self._key("generate", p, params) for p in prompts]
        out: list[Generation | None] = [None] * len(prompts)
        misses = []
        for i, key in enumerate(keys):
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None:
                out[i] = Generation(
                    text=hit["text"],
                    tokens_in=hit["tokens_in"],
                    tokens_out=hit["tokens_out"],
                    latency=0.0,
                    cache_hit=True,
                )
            else:
                misses.append(i)
        if misses:
            started = time.perf_counter()
            fresh = self._generate([prompts[i] for i in misses], max_new_tokens, temperature, seed)
            self.usage.add_busy(time.perf_counter() - started)
            for i, record in zip(misses, fresh, strict=True):
                out[i] = record
                if record.error is None and self.cache is not None:
                    self.cache.put(
                        keys[i], {"text": record.text, "tokens_in": record.tokens_in, "tokens_out": record.tokens_out}
                    )
        records = [r for r in out if r is not None]
        for record in records:
            self.usage.add(record)
        return records

    def score_many(self, prompts: Sequence[str], options_list: Sequence[Sequence[str]]) -> list[Scores]:
        """Option log-likelihoods for several prompts at once (batched where the backend can)."""
        if len(prompts) != len(options_list):
            raise ValueError("score_many needs one options list per prompt")
        keys = [
            self._key("score", p, {"options": list(o), "system": self.system_prompt, **self._score_key_params()})
            for p, o in zip(prompts, options_list, strict=True)
        ]
        out: list[Scores | None] = [None] * len(prompts)
        misses = []
        for i, key in enumerate(keys):
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None:
                logprobs = np.array([-math.inf if v is None else v for v in hit["logprobs"]], dtype=np.float64)
                out[i] = Scores(
                    logprobs,
                    tokens_in=hit["tokens_in"],
                    tokens_out=hit.get("tokens_out", 0),
                    cache_hit=True,
                    raw=hit.get("raw", ""),
                )
            elif len(options_list[i]) == 0:
                out[i] = Scores(np.zeros(0))
            else:
                misses.append(i)
        if misses:
            started = time.perf_counter()
            fresh = self._score([prompts[i] for i in misses], [list(options_list[i]) for i in misses])
            self.usage.add_busy(time.perf_counter() - started)
            for i, record in zip(misses, fresh, strict=True):
                out[i] = record
                if record.error is None and self.cache is not None:
                    values = [None if not np.isfinite(v) else float(v) for v in record.logprobs]
                    self.cache.put(
                        keys[i],
                        {
                            "logprobs": values,
                            "tokens_in": record.tokens_in,
                            "tokens_out": record.tokens_out,
                            "raw": record.raw,
                        },
                    )
        records = [r for r in out if r is not None]
        for record in records:
            self.usage.add(record)
        return records

    # --- for subclasses ---------------------------------------------------------
    @abstractmethod
    def _generate(self, prompts: list[str], max_new_tokens: int, temperature: float, seed: int) -> list[Generation]:
        """Uncached generation, one record per prompt, in order."""

    @abstractmethod
    def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        """Uncached option scoring, one record per prompt, in order."""

    def _generate_key_params(self) -> dict[str, Any]:
        """Settings that change generated text beyond the call's arguments (part of the cache key)."""
        return {}

    def _score_key_params(self) -> dict[str, Any]:
        """Settings that change scores beyond the prompt and options (part of the cache key)."""
        return {}

    def _key(self, op: str, prompt: str, params: dict[str, Any]) -> str:
        return ResponseCache.key(backend=self.kind, model=self.model_id, op=op, prompt=prompt, params=params)
