"""OpenAI-compatible HTTP backend (vLLM, Ollama, llama.cpp server, OpenAI) over plain ``httpx``.

* **The URL.** Credentials typed into the base URL (``http://user:KEY@host/v1?key=KEY2``) are split off before
  use (:func:`recaug.core.secrets.split_url`): they are sent as the API key only when asked (``key_from_url``),
  never as Basic auth, and are redacted from every message. Harmless query parameters (``api-version=…``) go after
  the request path of every request (``/v1/completions?api-version=…``).
* **Requests** run concurrently on a bounded thread pool (``batch_size`` at a time), each with a ``timeout``.
  429, 5xx, timeouts, dropped connections and malformed JSON are retried with exponential backoff, or after the
  server's ``Retry-After``; a request that still fails is a failed record counted in ``usage.failures`` -- the run
  goes on. Every request is counted (``usage.requests``, ``usage.setup_requests``); retries come from one allowance
  of ``max_calls`` and a circuit breaker stops sending after repeated server failures
  (:class:`recaug.text.llm.budget.RequestGuard`).
* A server that cannot be reached at all raises :class:`RecaugInputError` at construction, with what to do.
* ``score`` first **probes** the server with known-answer questions (:data:`PROBE`) in each scoring mode, best
  first, and keeps the first mode that answers them all correctly:

  1. ``logprobs``: ``/completions`` with ``echo`` + ``logprobs`` (exact option log-likelihoods; vLLM). Servers that
     need the model's beginning-of-text token to score the first prompt token (llama-cpp-python, issue #1983) get
     it: when plain text fails, the probe finds a BOS text the server consumes as a special token and tries again.
     Whether the server takes a list of prompts per request is probed too; many options are then batched into one
     request, else one text per request;
  2. ``top-logprobs``: the options are lettered and the log-probabilities of the letters as the next token are
     read from ``top_logprobs`` (completions, else chat);
  3. ``choice``: constrained generation (llama.cpp ``grammar``, vLLM ``guided_choice``; plain when the server
     refuses those fields), the model answers with a letter (chosen option 0.0, the others -inf).

  Only ``logprobs`` gives each option's own log-likelihood (:attr:`OpenAIBackend.scores_text`); callers that
  compare scores across calls (continuation scoring, PMI calibration) ask for it with
  ``check_scoring(likelihoods=True)`` and are refused rather than silently getting a lettered, position-biased
  choice. Lettered modes answer at most 26 options and fail longer lists as records, never with an exception.
* The API key comes from the argument, ``RECAUG_LLM_API_KEY`` / ``OPENAI_API_KEY`` or (when asked) the URL; it
  lives only in the request headers and is never logged, cached, repr'd or exported.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from recaug.core.errors import RecaugInputError
from recaug.core.secrets import redact_text, split_url
from recaug.text.llm.base import (
    DEFAULT_SYSTEM_PROMPT,
    Generation,
    LLMBackend,
    Scores,
    failed_scores,
    failure_summary,
)
from recaug.text.llm.budget import RequestGuard
from recaug.text.llm.cache import ResponseCache
from recaug.text.llm.parsing import parse_choice

logger = logging.getLogger(__name__)

API_KEY_VARIABLES = ("RECAUG_LLM_API_KEY", "OPENAI_API_KEY")
SCORE_MODES = ("auto", "logprobs", "top-logprobs", "choice")
PROBE_ORDER = ("logprobs", "top-logprobs", "choice")
# Known-answer questions: (question, options, index of the right answer). The right answer sits at different
# positions so a model that always takes the first (or last) option fails; the options have several tokens each,
# so a mode that only works for one-token options cannot pass.
PROBE: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("What is the capital of France?", ("Tokyo", "Paris", "Cairo"), 1),
    ("Which animal says meow?", ("A cat", "A cow", "A fish"), 0),
    ("What colour is the sky on a clear day?", ("Green", "Brown", "Blue"), 2),
    # Three questions let a wrong scorer through by luck: SmolLM2 scored with llama-cpp-python's off-by-one echo
    # behind '<|endoftext|>' answers the three above right and these wrong.
    ("What do bees make?", ("Honey", "Steel", "Glass"), 0),
    ("What is the opposite of hot?", ("Loud", "Tall", "Cold"), 2),
    ("Which number comes after one?", ("Seven", "Two", "Ten"), 1),
    ("What do cows drink?", ("Water", "Petrol", "Ink"), 0),
)
# Beginning-of-text tokens of common model families, tried when plain echo scores fail the probe.
KNOWN_BOS = ("<|im_start|>", "<|begin_of_text|>", "<s>", "<bos>", "<|startoftext|>", "<|endoftext|>")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_RETRY_AFTER = 120.0
TEXTS_PER_REQUEST = 16  # echo texts batched into one /completions request where the server takes a list
_RETRY_STATUS = {408, 409, 425, 429}
# How each scoring mode works, for the reader (the probe's choice was an INFO log line only).
MODE_WORDS = {
    "logprobs": "prompt log-probabilities (each option's own likelihood)",
    "top-logprobs": "the log-probabilities of the option letters (a lettered choice)",
    "choice": "a lettered choice the model answers (no probabilities)",
}
_NO_ENDPOINT_STATUS = {400, 404, 405, 422, 501}
T = TypeVar("T")
# Probe outcomes per server in this process (mode, BOS, texts per request, constrained choice, report): every seed
# builds its own backend, and a probe costs 7-30 requests (minutes on a one-slot llama.cpp server).
_PROBED: dict[str, tuple[str, str, int, bool, tuple[str, ...]]] = {}
_PROBED_LOCK = threading.Lock()


class RetryableError(Exception):
    """A response worth asking for again (server busy, broken, or answered garbage)."""

    def __init__(self, message: str, retry_after: float | None = None, *, server_failed: bool = True) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.server_failed = server_failed  # False for "busy" (429, 408): the breaker ignores those


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), capped; None when absent or bad."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class EndpointUnavailable(Exception):
    """The server does not offer this endpoint or option (e.g. no ``/completions`` logprobs)."""


def _api_key(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    return next((os.environ[v] for v in API_KEY_VARIABLES if os.environ.get(v)), None)


@dataclass(frozen=True)
class EchoText:
    """One text to score by echo: the option's tokens are those ending after ``prefix_length`` characters."""

    text: str
    prefix_length: int


class OpenAIBackend(LLMBackend):
    """Talks to ``{base_url}/chat/completions`` and ``{base_url}/completions``; see the module docstring."""

    kind = "openai"

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        *,
        api_key: str | None = None,
        key_from_url: bool = False,
        batch_size: int = 4,
        timeout: float = 60.0,
        max_retries: int = 3,
        retry_base_delay: float = 0.5,
        max_calls: int = 0,
        breaker_failures: int = 10,
        breaker_cooldown: float = 30.0,
        score_mode: str = "auto",
        bos_text: str | None = None,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        cache: ResponseCache | bool = True,
    ) -> None:
        import httpx

        raw_url = base_url or os.environ.get("RECAUG_LLM_BASE_URL")
        if not raw_url:
            raise RecaugInputError(
                "the openai backend needs a server URL",
                fix="pass --llm-base-url http://127.0.0.1:8000/v1 (or set RECAUG_LLM_BASE_URL)",
            )
        if score_mode not in SCORE_MODES:
            raise RecaugInputError(f"unknown score mode '{score_mode}'", fix=f"choose one of {', '.join(SCORE_MODES)}")
        server = split_url(raw_url)
        self.base_url = server.base  # no credentials: safe to show, log and use in cache keys
        self.batch_size = max(1, int(batch_size))
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self.score_mode = score_mode
        self._mode: str | None = None if score_mode == "auto" else score_mode  # the probe sets it for "auto"
        self._probe_lock = threading.Lock()
        self.probe_report: list[str] = []
        self.probe_seconds = 0.0
        self.bos_text = bos_text or ""  # prefixed to echo-scored texts; "" until the probe finds one is needed
        self._bos_given = bos_text is not None
        self.texts_per_request = TEXTS_PER_REQUEST  # the probe drops it to 1 for servers refusing prompt lists
        self._constrain_choice = True  # the probe drops it for servers refusing grammar / guided_choice
        self.guard = RequestGuard(max_calls, open_after=breaker_failures, cooldown=breaker_cooldown)
        self._in_setup = False  # probe requests are set-up: counted apart, no retry allowance spent
        self._setup_answered = False  # whether any set-up request got an answer (not a 5xx, 429 or timeout)
        self._setup_errors: list[str] = []  # why the others failed, to tell a failing server from a weak one
        self.url_note = ""
        key = _api_key(api_key)
        if server.secrets and key_from_url:
            key = server.api_key
        elif server.secrets:
            self.url_note = (
                "the base URL carried credentials; recaug did not send them (pass key_from_url / --llm-key-from-url "
                f"to use them as the API key, or set {API_KEY_VARIABLES[0]})"
            )
            # Said to the user once, in the run's warnings (llm_warnings); the log line only records it.
            logger.info("LLM server %s: %s", self.base_url, self.url_note)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(
            headers=headers,
            params=dict(server.query),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=self.batch_size + 2),
        )
        self._jitter = random.Random(0)
        super().__init__(model_id=self.base_url, system_prompt=system_prompt, cache=cache)  # usage exists now
        served = self._served_model(model)
        self.model_id = f"{served}@{self.base_url}"
        self.model = served

    # --- HTTP plumbing ----------------------------------------------------------------
    def _served_model(self, requested: str | None) -> str:
        """Reach the server once (a clear error now if it is unreachable); the requested model, else the first
        model the server lists."""
        data = self._get_models()
        self._server_identity = json.dumps(data, sort_keys=True, default=str)  # what the probe memo is keyed by
        if requested:
            return requested
        models = [m.get("id") for m in data.get("data", []) if isinstance(m, dict) and m.get("id")]
        if not models:
            raise RecaugInputError(
                f"the LLM server at {self.base_url} lists no models", fix="name the model with --llm-model"
            )
        return str(models[0])

    def _get_models(self) -> dict[str, Any]:
        import httpx

        self.usage.count_request(setup=True)
        try:
            response = self._client.get(f"{self.base_url}/models", timeout=10.0)  # not the request timeout
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol, httpx.InvalidURL) as err:
            raise RecaugInputError(
                f"cannot reach the LLM server at {self.base_url} ({type(err).__name__})",
                fix="start the server (vllm serve / ollama serve / llama-server) or correct the base URL, "
                "e.g. http://127.0.0.1:8000/v1",
            ) from None
        except httpx.HTTPError as err:
            raise RecaugInputError(
                f"the LLM server at {self.base_url} did not answer ({type(err).__name__})",
                fix="check that the server is up and the URL ends in /v1",
            ) from None
        if response.status_code in (401, 403):
            raise RecaugInputError(
                f"the LLM server at {self.base_url} refused the API key (HTTP {response.status_code})",
                fix=f"set {API_KEY_VARIABLES[0]} (or {API_KEY_VARIABLES[1]}) to a valid key"
                + (f"; {self.url_note}" if self.url_note else ""),
            )
        try:
            return response.json() if response.status_code == 200 else {}
        except ValueError:
            return {}

    def _post(
        self, path: str, body: dict[str, Any], parse: Callable[[dict[str, Any]], T], *, retries: int | None = None
    ) -> tuple[T | None, str | None]:
        """POST with retries; returns (parsed, None) or (None, error). Never raises for server trouble.

        Each attempt is admitted by :attr:`guard` first (retry allowance, circuit breaker) and counted.
        """
        import httpx

        error = "no attempt made"
        wait: float | None = None
        attempts = (self.max_retries if retries is None else retries) + 1
        setup = self._in_setup
        for attempt in range(attempts):
            refused = self.guard.admit(retry=attempt > 0 and not setup)
            if refused:
                return None, refused if attempt == 0 else f"{error}; then {refused}"
            if attempt:
                self.usage.count_retry()
                delay = self.retry_base_delay * 2 ** (attempt - 1) * (1 + 0.25 * self._jitter.random())
                time.sleep(delay if wait is None else wait)  # the server's Retry-After wins over our backoff
            wait = None
            self.usage.count_request(setup=setup)
            server_failed = True
            try:
                response = self._client.post(f"{self.base_url}{path}", json=body)
                status = response.status_code
                if setup and status < 500 and status not in _RETRY_STATUS:
                    self._setup_answered = True
                if status in _RETRY_STATUS:
                    raise RetryableError(
                        f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After")), server_failed=False
                    )
                if status >= 500:
                    raise RetryableError(f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After")))
                server_failed = False
                if status in _NO_ENDPOINT_STATUS:
                    raise EndpointUnavailable(f"HTTP {status}")
                if status >= 400:
                    return None, f"HTTP {status}"
                try:
                    data = response.json()
                except ValueError:
                    server_failed = True
                    raise RetryableError("malformed JSON") from None
                try:
                    return parse(data), None
                except (KeyError, IndexError, TypeError, ValueError) as err:
                    server_failed = True
                    raise RetryableError(f"unexpected response shape ({type(err).__name__}: {err})") from None
            except EndpointUnavailable:
                raise
            except RetryableError as err:
                error, wait, server_failed = str(err), err.retry_after, err.server_failed
            except httpx.TimeoutException:
                error = "timeout"
            except httpx.TransportError as err:
                error = f"connection error ({type(err).__name__})"
            finally:
                self.guard.record(server_failed=server_failed)
            if setup:
                self._setup_errors.append(error)
            logger.info("LLM request to %s failed (attempt %d): %s", path, attempt + 1, redact_text(error))
        return None, f"{error} after {attempts} attempts"

    def _map(self, fn: Callable[[int], T], n: int) -> list[T]:
        if n <= 1 or self.batch_size == 1:
            return [fn(i) for i in range(n)]
        with ThreadPoolExecutor(max_workers=min(self.batch_size, n)) as pool:
            return list(pool.map(fn, range(n)))

    def _messages(self, prompt: str) -> list[dict[str, str]]:
        messages = [{"role": "user", "content": prompt}]
        if self.system_prompt:
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        return messages

    # --- generation ---------------------------------------------------------------------
    def _chat(
        self, prompt: str, max_new_tokens: int, temperature: float, seed: int, *, extra: dict[str, Any] | None = None
    ) -> Generation:
        body = {
            "model": self.model,
            "messages": self._messages(prompt),
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            "seed": seed,
            **(extra or {}),
        }

        def parse(data: dict[str, Any]) -> tuple[str, int, int]:
            text = data["choices"][0]["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("message content is not text")
            usage = data.get("usage") or {}
            return text.strip(), int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))

        started = time.perf_counter()
        try:
            parsed, error = self._post("/chat/completions", body, parse)
        except EndpointUnavailable as err:
            if extra:
                raise
            parsed, error = None, f"chat endpoint unavailable ({err})"
        latency = time.perf_counter() - started
        if parsed is None:
            return Generation(text="", latency=latency, error=error)
        text, tokens_in, tokens_out = parsed
        return Generation(text=text, tokens_in=tokens_in, tokens_out=tokens_out, latency=latency)

    def _generate(self, prompts: list[str], max_new_tokens: int, temperature: float, seed: int) -> list[Generation]:
        return self._map(lambda i: self._chat(prompts[i], max_new_tokens, temperature, seed), len(prompts))

    # --- scoring by prompt log-probabilities (echo) ----------------------------------------
    @property
    def scores_text(self) -> bool:
        """True when scores are each option's own log-likelihood (the ``logprobs`` mode), not a lettered choice."""
        return self.scoring_mode() == "logprobs"

    def scoring_text(self, prompt: str) -> str:
        """The plain-text prompt the completions endpoint scores options after (no chat template there), behind
        the model's beginning-of-text token where the server needs it."""
        head = f"{self.system_prompt}\n\n" if self.system_prompt else ""
        return f"{self.bos_text}{head}{prompt}\nAnswer:"

    def echo_texts(self, prompt: str, options: list[str]) -> list[EchoText]:
        prefix = self.scoring_text(prompt)
        return [EchoText(f"{prefix} {option}", len(prefix)) for option in options]

    def _echo(self, texts: list[EchoText], *, retries: int | None = None) -> tuple[tuple[np.ndarray, int] | None, str]:
        """Summed option-token log-probs of each text in one request; (None, error) when it failed."""
        body: dict[str, Any] = {"model": self.model, "max_tokens": 1, "temperature": 0, "echo": True, "logprobs": 1}
        body["prompt"] = texts[0].text if len(texts) == 1 else [t.text for t in texts]

        def parse(data: dict[str, Any]) -> tuple[np.ndarray, int]:
            choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
            if len(choices) != len(texts):
                raise ValueError(f"{len(choices)} choices for {len(texts)} prompts")
            sums = np.zeros(len(texts))
            for j, (choice, item) in enumerate(zip(choices, texts, strict=True)):
                lp = choice["logprobs"]
                if lp is None:
                    raise EndpointUnavailable("no logprobs in the completions answer")
                tokens, offsets = lp["tokens"], lp["text_offset"]
                shift = self._offset_shift(item.text, tokens, offsets)
                for offset, token, value in zip(offsets, tokens, lp["token_logprobs"], strict=False):
                    start = offset + shift
                    # A token belongs to the option if it ends after the prefix and starts before the text ends
                    # (the one generated token after the text is ignored).
                    if start + len(token) > item.prefix_length and start < len(item.text) and value is not None:
                        sums[j] += float(value)
            usage = data.get("usage") or {}
            return sums, int(usage.get("prompt_tokens", 0))

        parsed, error = self._post("/completions", body, parse, retries=retries)
        return parsed, error or ""

    def _offset_shift(self, text: str, tokens: list[str], offsets: list[int]) -> int:
        """Characters to add to the server's offsets: llama-cpp-python drops a leading BOS token from the echo
        and counts offsets from after it."""
        if not tokens or not self.bos_text or not text.startswith(self.bos_text):
            return 0
        first, at = str(tokens[0]), int(offsets[0])
        if first and text[at : at + len(first)] != first and text[len(self.bos_text) + at :].startswith(first):
            return len(self.bos_text)
        return 0

    def _score_echo_many(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        """Every option of every prompt, ``texts_per_request`` texts to a request, requests run concurrently."""
        owners = [(i, j) for i, options in enumerate(options_list) for j in range(len(options))]
        texts = [t for p, o in zip(prompts, options_list, strict=True) for t in self.echo_texts(p, o)]
        size = self.texts_per_request
        chunks = [range(start, min(start + size, len(texts))) for start in range(0, len(texts), size)]

        def run(c: int) -> tuple[tuple[np.ndarray, int] | None, str, float]:
            started = time.perf_counter()
            try:
                parsed, error = self._echo([texts[k] for k in chunks[c]])
            except EndpointUnavailable as err:
                parsed, error = None, f"completions logprobs unavailable ({err})"
            return parsed, error, time.perf_counter() - started

        results = self._map(run, len(chunks))
        values = [np.full(len(o), np.nan) for o in options_list]
        errors: dict[int, str] = {}
        tokens_in, latency = np.zeros(len(prompts)), np.zeros(len(prompts))
        for chunk, (parsed, error, seconds) in zip(chunks, results, strict=True):
            members = {owners[k][0] for k in chunk}
            for i in members:  # a request's time and tokens are shared by the prompts it scored
                latency[i] += seconds / len(members)
            for n, k in enumerate(chunk):
                i, j = owners[k]
                if parsed is None:
                    errors[i] = error or "failed"
                else:
                    values[i][j] = parsed[0][n]
                    tokens_in[i] += parsed[1] / len(chunk)
        return [
            failed_scores(len(options_list[i]), errors[i], latency=float(latency[i]))
            if i in errors
            else Scores(values[i], tokens_in=round(tokens_in[i]), latency=float(latency[i]))
            for i in range(len(prompts))
        ]

    # --- scoring by a lettered choice ---------------------------------------------------------
    def choice_prompt(self, prompt: str, options: list[str]) -> str:
        """The prompt for a lettered choice: options A, B, C, ...; the answer is one letter."""
        lettered = "\n".join(f"{LETTERS[i]}. {option}" for i, option in enumerate(options))
        return f"{prompt}\n\nOptions:\n{lettered}\n\nReply with the letter of the best option only."

    @staticmethod
    def _too_many_letters(options: list[str]) -> Scores | None:
        if len(options) <= len(LETTERS):
            return None
        return failed_scores(len(options), f"{len(options)} options: a lettered choice names at most {len(LETTERS)}")

    def _score_choice(self, prompt: str, options: list[str]) -> Scores:
        refused = self._too_many_letters(options)
        if refused is not None:
            return refused
        text = self.choice_prompt(prompt, options)
        letters = list(LETTERS[: len(options)])
        answer: Generation | None = None
        if self._constrain_choice:  # llama.cpp reads "grammar", vLLM "guided_choice"; each ignores the other
            grammar = "root ::= " + " | ".join(f'"{letter}"' for letter in letters)
            try:
                answer = self._chat(text, 2, 0.0, 0, extra={"grammar": grammar, "guided_choice": letters})
            except EndpointUnavailable:
                self._constrain_choice = False  # e.g. OpenAI refuses unknown fields: ask without them
        if answer is None:
            answer = self._chat(text, max_new_tokens=8, temperature=0.0, seed=0)
        if answer.error is not None:
            return failed_scores(len(options), answer.error, latency=answer.latency)
        index = parse_letter(answer.text, len(options))
        if index is None:
            index = parse_choice(answer.text, options)
        if index is None:
            return failed_scores(len(options), "invalid choice", latency=answer.latency, raw=answer.text)
        logprobs = np.full(len(options), -np.inf)
        logprobs[index] = 0.0
        return Scores(
            logprobs, tokens_in=answer.tokens_in, tokens_out=answer.tokens_out, latency=answer.latency, raw=answer.text
        )

    def _score_top_logprobs(self, prompt: str, options: list[str]) -> Scores:
        """Log-probabilities of the option letters as the next token (completions first, else chat)."""
        refused = self._too_many_letters(options)
        if refused is not None:
            return refused
        text = self.choice_prompt(prompt, options)
        completions = {
            "model": self.model,
            "prompt": f"{self.scoring_text(text)}",
            "max_tokens": 1,
            "temperature": 0,
            "logprobs": 20,
        }
        chat = {
            "model": self.model,
            "messages": self._messages(text),
            "max_tokens": 1,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": 20,
        }

        def from_completions(data: dict[str, Any]) -> dict[str, float]:
            top = (data["choices"][0].get("logprobs") or {}).get("top_logprobs")
            if not top:  # the server does not offer them: no point asking again
                raise EndpointUnavailable("no top_logprobs in the completions answer")
            return {str(k): float(v) for k, v in top[0].items()}

        def from_chat(data: dict[str, Any]) -> dict[str, float]:
            content = (data["choices"][0].get("logprobs") or {}).get("content")
            if not content or not content[0].get("top_logprobs"):
                raise EndpointUnavailable("no top_logprobs in the chat answer")
            return {str(t["token"]): float(t["logprob"]) for t in content[0]["top_logprobs"]}

        started = time.perf_counter()
        try:
            parsed, error = self._post("/completions", completions, from_completions)
        except EndpointUnavailable as err:
            parsed, error = None, str(err)
        if parsed is None:
            try:
                parsed, error = self._post("/chat/completions", chat, from_chat)
            except EndpointUnavailable as err:
                parsed, error = None, f"no top logprobs ({err})"
        latency = time.perf_counter() - started
        if parsed is None:
            return failed_scores(len(options), error or "failed", latency=latency)
        logprobs = np.full(len(options), -np.inf)
        for token, value in parsed.items():
            letter = token.strip().rstrip(".):").upper()
            if len(letter) == 1 and letter in LETTERS[: len(options)]:
                index = LETTERS.index(letter)
                logprobs[index] = np.logaddexp(logprobs[index], value)  # " A" and "A" are the same answer
        if not np.isfinite(logprobs).any():
            return failed_scores(len(options), "no option letter among the top logprobs", latency=latency)
        return Scores(logprobs, latency=latency, raw=max(parsed, key=lambda token: parsed[token]))

    def scoring_description(self) -> str:
        mode = self._mode or self.score_mode
        return f"{mode}: {MODE_WORDS[mode]}" if mode in MODE_WORDS else "not probed yet"

    def _score_key_params(self) -> dict[str, Any]:
        return {"score_mode": self.scoring_mode(), "bos": self.bos_text}

    # --- the probe ------------------------------------------------------------------------
    def scoring_mode(self) -> str:
        """The mode this server scores options with, probing it on first use (see the module docstring).

        Raises :class:`RecaugInputError` when the server fails every mode it was allowed to use.
        """
        with self._probe_lock:
            if self._mode is None:
                key = self._probe_key()
                with _PROBED_LOCK:
                    known = _PROBED.get(key)
                if known is not None:  # this server was probed in this process (another seed, the estimate)
                    self._mode, self.bos_text, self.texts_per_request, self._constrain_choice = known[:4]
                    self.probe_report = [*known[4], "(probed earlier in this process)"]
                else:
                    self._mode = self._run_probe(PROBE_ORDER)
                    found = (self._mode, self.bos_text, self.texts_per_request, self._constrain_choice)
                    with _PROBED_LOCK:
                        _PROBED[key] = (*found, tuple(self.probe_report))
            return self._mode

    def _probe_key(self) -> str:
        """The server as the probe saw it: URL, model and its model list (a restarted or different server on the
        same port lists something else, e.g. vLLM's creation times), plus what the caller pinned."""
        return json.dumps(
            [self.base_url, self.model, self._server_identity, self.bos_text if self._bos_given else None]
        )

    def check_scoring(self, *, likelihoods: bool = False) -> None:
        """Probe now (an augmenter that scores calls this in ``fit``), so a server that cannot score is refused
        before any work is done; ``likelihoods=True`` refuses a server whose only passing mode is a lettered
        choice (see :meth:`LLMBackend.check_scoring`)."""
        mode = self.scoring_mode()
        if self.score_mode != "auto" and not self.probe_report:
            with self._probe_lock:
                self._run_probe((mode,))
        if likelihoods and mode != "logprobs":
            raise RecaugInputError(
                f"the LLM server at {self.base_url} ({self.model}) scores options only by a lettered choice "
                f"({mode}), not by their log-likelihoods: " + "; ".join(self.probe_report),
                fix="use choice='logprob' (a listed choice, asked in several orders), a server that returns prompt "
                "log-probabilities (vLLM), or the local backend",
            )

    def _run_probe(self, modes: tuple[str, ...]) -> str:
        started = time.perf_counter()
        self._in_setup = True
        try:
            return self._probe(modes)
        finally:
            self._in_setup = False
            self.probe_seconds += time.perf_counter() - started

    def _probe(self, modes: tuple[str, ...]) -> str:
        for mode in modes:
            verdict = self._passes(mode)
            if verdict and mode == "logprobs" and not self._bos_given:
                verdict = self._retry_with_bos(verdict)
            self.probe_report.append(f"{mode}: {verdict or 'ok'}")
            if not verdict:
                logger.info("LLM server %s scores options by %s", self.base_url, mode)
                return mode
        if not self._setup_answered and self._setup_errors:  # nothing was answered: a failing server, not a weak one
            causes = failure_summary(self._setup_errors)
            what = f"answered {causes} to every request" if causes.startswith("HTTP") else "failed every request"
            raise RecaugInputError(
                f"the LLM server at {self.base_url} ({self.model}) {what} while recaug checked how it scores "
                f"options ({len(self._setup_errors)} attempts{'' if what.startswith('answered') else ': ' + causes})",
                fix="the server is reachable but busy or failing, which says nothing about its model: wait and try "
                "again, lower --llm-concurrency (fewer requests at once), raise --llm-timeout if requests time out, "
                "or check the server's log",
            )
        raise RecaugInputError(
            f"the LLM server at {self.base_url} ({self.model}) cannot score options reliably: "
            + "; ".join(self.probe_report),
            fix="use a server that returns prompt log-probabilities (vLLM) or top log-probs, or a larger model "
            "that answers simple questions, or the local backend",
        )

    def _retry_with_bos(self, verdict: str) -> str:
        """Echo scores failed on plain text: find a BOS text the server consumes as a special token, then probe
        again behind it. Returns '' on success, else the original verdict (with what was tried)."""
        if not verdict.startswith("wrong answer"):  # no scores, or tied ones: a BOS would not change that
            return verdict
        for candidate in KNOWN_BOS:
            if not self._consumes_as_token(candidate):
                continue
            self.bos_text = candidate
            again = self._passes("logprobs")
            if not again:
                return ""
            verdict = f"{verdict}; behind {candidate!r}: {again}"
        self.bos_text = ""
        return verdict

    def _consumes_as_token(self, candidate: str) -> bool:
        """Whether the server reads ``candidate`` as one special token: its echo then drops it (a BOS) or returns
        it as a single token, never spelt out in pieces."""

        def parse(data: dict[str, Any]) -> list[str]:
            return [str(t) for t in (data["choices"][0].get("logprobs") or {}).get("tokens") or []]

        body = {"model": self.model, "prompt": f"{candidate}Paris", "max_tokens": 1, "echo": True, "logprobs": 1}
        try:
            tokens, _ = self._post("/completions", body, parse, retries=0)
        except EndpointUnavailable:
            return False
        if not tokens or "Paris" not in "".join(tokens):  # the server did not echo the prompt: nothing to learn here
            return False
        return candidate in tokens or not any(t.strip() and t in candidate for t in tokens)

    def _passes(self, mode: str) -> str:
        """'' when ``mode`` answers every known-answer question right, else what went wrong."""
        for question, options, right in PROBE:
            scores = self._probe_question(mode, question, list(options))
            self.usage.add(scores)
            values = scores.logprobs
            if scores.error is not None:
                return f"failed ({scores.error})"
            if np.isnan(values).any() or not np.isfinite(values).any():
                return "no usable scores"
            best = np.flatnonzero(values == values.max())
            if len(best) > 1:
                return "options tied (the server ignores the question)"
            if best[0] != right:
                return f"wrong answer to {question!r} ({options[best[0]]!r})"
        return ""

    def _probe_question(self, mode: str, prompt: str, options: list[str]) -> Scores:
        """One known-answer question; in ``logprobs`` mode it also finds out whether the server takes a list of
        prompts per request (llama-cpp-python answers a list with HTTP 500, twice): decided here, once, instead of
        by whichever later request meets a passing server error."""
        if mode == "logprobs" and self.texts_per_request > 1:
            started = time.perf_counter()
            try:
                parsed, error = self._echo(self.echo_texts(prompt, options), retries=1)
            except EndpointUnavailable as err:
                return failed_scores(len(options), f"completions logprobs unavailable ({err})")
            if parsed is not None:
                return Scores(parsed[0], tokens_in=parsed[1], latency=time.perf_counter() - started)
            if not error.startswith("HTTP 5"):
                return failed_scores(len(options), error or "failed", latency=time.perf_counter() - started)
            self.texts_per_request = 1
        return self._score_in_mode(mode, prompt, options)

    def _score_in_mode(self, mode: str, prompt: str, options: list[str]) -> Scores:
        if mode == "logprobs":
            return self._score_echo_many([prompt], [options])[0]
        if mode == "top-logprobs":
            return self._score_top_logprobs(prompt, options)
        return self._score_choice(prompt, options)

    def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        mode = self.scoring_mode()
        if mode == "logprobs":
            return self._score_echo_many(prompts, options_list)
        return self._map(lambda i: self._score_in_mode(mode, prompts[i], options_list[i]), len(prompts))

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


def parse_letter(text: str, n: int) -> int | None:
    """Index of a lettered answer ("B", "B.", "(B)", "Answer: B") among ``n`` options, or None."""
    match = re.search(r"(?<![A-Za-z])([A-Z])(?![a-z])", str(text).strip().removeprefix("Answer:").strip())
    if match and match.group(1) in LETTERS[:n]:
        return LETTERS.index(match.group(1))
    return None
