"""OpenAI-compatible HTTP backend (vLLM, Ollama, llama.cpp server, OpenAI) over plain ``httpx``.

* Requests run concurrently on a bounded thread pool (``batch_size`` at a time), each with a ``timeout``.
* 429, 5xx, timeouts, dropped connections and malformed JSON are retried with exponential backoff, or after the
  server's ``Retry-After`` when it sends one; a request that still fails is returned as a failed record and counted
  in ``usage.failures`` -- the run goes on.
* A server that cannot be reached at all raises :class:`RecaugInputError` at construction, with what to do.
* ``score`` first **probes** the server with known-answer questions (:data:`PROBE`) in each scoring mode, best
  first, and keeps the first mode that answers them all correctly:

  1. ``logprobs``: ``/completions`` with ``echo`` + ``logprobs`` (exact option log-likelihoods, as vLLM gives);
     llama-cpp-python's echo scores are wrong and llama.cpp's server gives none, which the probe catches;
  2. ``top-logprobs``: the options are lettered and the log-probabilities of the letters as the next token are
     read from ``top_logprobs`` (completions, else chat);
  3. ``choice``: constrained generation, the model answers with a letter (chosen option 0.0, the others -inf; an
     invalid answer is a failure).

  A server that fails every mode is refused with a clear message, so no augmenter ever picks from scores that
  carry no information (e.g. all zero when ``echo`` is ignored).
* The API key comes from the argument or ``RECAUG_LLM_API_KEY`` / ``OPENAI_API_KEY``; it lives only in the request
  headers and is never logged, cached, repr'd or exported.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from recaug.core.errors import RecaugInputError
from recaug.text.llm.base import DEFAULT_SYSTEM_PROMPT, Generation, LLMBackend, Scores, failed_scores
from recaug.text.llm.cache import ResponseCache
from recaug.text.llm.parsing import parse_choice

logger = logging.getLogger(__name__)

API_KEY_VARIABLES = ("RECAUG_LLM_API_KEY", "OPENAI_API_KEY")
SCORE_MODES = ("auto", "logprobs", "top-logprobs", "choice")
PROBE_ORDER = ("logprobs", "top-logprobs", "choice")
# Known-answer questions: (question, options, index of the right answer). The right answer sits at different
# positions so a model that always takes the first (or last) option fails.
PROBE: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("What is the capital of France?", ("Tokyo", "Paris", "Cairo"), 1),
    ("Which animal says meow?", ("A cat", "A cow", "A fish"), 0),
    ("What colour is the sky on a clear day?", ("Green", "Brown", "Blue"), 2),
)
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_RETRY_AFTER = 120.0
_RETRY_STATUS = {408, 409, 425, 429}
_NO_ENDPOINT_STATUS = {400, 404, 405, 422, 501}
T = TypeVar("T")


class RetryableError(Exception):
    """A response worth asking for again (server busy, broken, or answered garbage)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


class OpenAIBackend(LLMBackend):
    """Talks to ``{base_url}/chat/completions`` and ``{base_url}/completions``; see the module docstring."""

    kind = "openai"

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        *,
        api_key: str | None = None,
        batch_size: int = 4,
        timeout: float = 60.0,
        max_retries: int = 3,
        retry_base_delay: float = 0.5,
        score_mode: str = "auto",
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        cache: ResponseCache | bool = True,
    ) -> None:
        import httpx

        base_url = base_url or os.environ.get("RECAUG_LLM_BASE_URL")
        if not base_url:
            raise RecaugInputError(
                "the openai backend needs a server URL",
                fix="pass --llm-base-url http://127.0.0.1:8000/v1 (or set RECAUG_LLM_BASE_URL)",
            )
        if score_mode not in SCORE_MODES:
            raise RecaugInputError(f"unknown score mode '{score_mode}'", fix=f"choose one of {', '.join(SCORE_MODES)}")
        self.base_url = base_url.rstrip("/")
        self.batch_size = max(1, int(batch_size))
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self.score_mode = score_mode
        self._mode: str | None = None if score_mode == "auto" else score_mode  # the probe sets it for "auto"
        self._probe_lock = threading.Lock()
        self.probe_report: list[str] = []
        self._one_prompt_per_request = False
        key = _api_key(api_key)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=self.batch_size + 2),
        )
        self._jitter = random.Random(0)
        served = self._served_model(model)
        super().__init__(model_id=f"{served}@{self.base_url}", system_prompt=system_prompt, cache=cache)
        self.model = served

    # --- HTTP plumbing ----------------------------------------------------------------
    def _served_model(self, requested: str | None) -> str:
        """Reach the server once (a clear error now if it is unreachable); the requested model, else the first
        model the server lists."""
        data = self._get_models()
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
                fix=f"set {API_KEY_VARIABLES[0]} (or {API_KEY_VARIABLES[1]}) to a valid key",
            )
        try:
            return response.json() if response.status_code == 200 else {}
        except ValueError:
            return {}

    def _post(
        self, path: str, body: dict[str, Any], parse: Callable[[dict[str, Any]], T]
    ) -> tuple[T | None, str | None]:
        """POST with retries; returns (parsed, None) or (None, error). Never raises for server trouble."""
        import httpx

        error = "no attempt made"
        wait: float | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.usage.count_retry()
                delay = self.retry_base_delay * 2 ** (attempt - 1) * (1 + 0.25 * self._jitter.random())
                time.sleep(delay if wait is None else wait)  # the server's Retry-After wins over our backoff
            wait = None
            try:
                response = self._client.post(f"{self.base_url}{path}", json=body)
                status = response.status_code
                if status in _RETRY_STATUS or status >= 500:
                    raise RetryableError(f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After")))
                if status in _NO_ENDPOINT_STATUS:
                    raise EndpointUnavailable(f"HTTP {status}")
                if status >= 400:
                    return None, f"HTTP {status}"
                try:
                    data = response.json()
                except ValueError:
                    raise RetryableError("malformed JSON") from None
                try:
                    return parse(data), None
                except (KeyError, IndexError, TypeError, ValueError) as err:
                    raise RetryableError(f"unexpected response shape ({type(err).__name__}: {err})") from None
            except EndpointUnavailable:
                raise
            except RetryableError as err:
                error, wait = str(err), err.retry_after
            except httpx.TimeoutException:
                error = "timeout"
            except httpx.TransportError as err:
                error = f"connection error ({type(err).__name__})"
            logger.info("LLM request to %s failed (attempt %d): %s", path, attempt + 1, error)
        return None, f"{error} after {self.max_retries + 1} attempts"

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
    def _chat(self, prompt: str, max_new_tokens: int, temperature: float, seed: int) -> Generation:
        body = {
            "model": self.model,
            "messages": self._messages(prompt),
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            "seed": seed,
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
            parsed, error = None, f"chat endpoint unavailable ({err})"
        latency = time.perf_counter() - started
        if parsed is None:
            return Generation(text="", latency=latency, error=error)
        text, tokens_in, tokens_out = parsed
        return Generation(text=text, tokens_in=tokens_in, tokens_out=tokens_out, latency=latency)

    def _generate(self, prompts: list[str], max_new_tokens: int, temperature: float, seed: int) -> list[Generation]:
        return self._map(lambda i: self._chat(prompts[i], max_new_tokens, temperature, seed), len(prompts))

    # --- scoring ------------------------------------------------------------------------
    def scoring_text(self, prompt: str) -> str:
        """The plain-text prompt the completions endpoint scores options after (no chat template there)."""
        head = f"{self.system_prompt}\n\n" if self.system_prompt else ""
        return f"{head}{prompt}\nAnswer:"

    def _score_logprobs(self, prompt: str, options: list[str]) -> Scores:
        """Echoed option log-probs: one request with every option, or one per option on servers that refuse a
        list of prompts (llama-cpp-python answers HTTP 500); remembered after the first refusal."""
        prefix = self.scoring_text(prompt)
        texts = [f"{prefix} {option}" for option in options]
        started = time.perf_counter()
        parsed, error = (None, "") if self._one_prompt_per_request else self._echo(prefix, texts)
        if parsed is None and not self._one_prompt_per_request and error.startswith("HTTP 5"):
            self._one_prompt_per_request = True
        if self._one_prompt_per_request:
            parts = [self._echo(prefix, [text]) for text in texts]
            error = next((e for p, e in parts if p is None), "")
            complete = [p for p, _ in parts if p is not None]
            if not error and len(complete) == len(parts):
                parsed = (np.concatenate([p[0] for p in complete]), sum(int(p[1]) for p in complete))
        latency = time.perf_counter() - started
        if parsed is None:
            return failed_scores(len(options), error or "failed", latency=latency)
        return Scores(parsed[0], tokens_in=parsed[1], latency=latency)

    def _echo(self, prefix: str, texts: list[str]) -> tuple[tuple[np.ndarray, int] | None, str]:
        body = {"model": self.model, "prompt": texts, "max_tokens": 1, "temperature": 0, "echo": True, "logprobs": 1}
        if len(texts) == 1:
            body["prompt"] = texts[0]

        def parse(data: dict[str, Any]) -> tuple[np.ndarray, int]:
            choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
            if len(choices) != len(texts):
                raise ValueError(f"{len(choices)} choices for {len(texts)} prompts")
            sums = np.zeros(len(texts))
            for j, (choice, text) in enumerate(zip(choices, texts, strict=True)):
                lp = choice["logprobs"]
                if lp is None:
                    raise EndpointUnavailable("no logprobs in the completions answer")
                for offset, token, value in zip(lp["text_offset"], lp["tokens"], lp["token_logprobs"], strict=False):
                    # A token belongs to the option if it ends after the prefix and starts before the text ends
                    # (the one generated token after the text is ignored).
                    if offset + len(token) > len(prefix) and offset < len(text) and value is not None:
                        sums[j] += float(value)
            usage = data.get("usage") or {}
            return sums, int(usage.get("prompt_tokens", 0))

        parsed, error = self._post("/completions", body, parse)
        return parsed, error or ""

    def choice_prompt(self, prompt: str, options: list[str]) -> str:
        """The prompt for a lettered choice: options A, B, C, ...; the answer is one letter."""
        lettered = "\n".join(f"{LETTERS[i]}. {option}" for i, option in enumerate(options))
        return f"{prompt}\n\nOptions:\n{lettered}\n\nReply with the letter of the best option only."

    def _score_choice(self, prompt: str, options: list[str]) -> Scores:
        answer = self._chat(self.choice_prompt(prompt, options), max_new_tokens=8, temperature=0.0, seed=0)
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

    def _score_key_params(self) -> dict[str, Any]:
        return {"score_mode": self.scoring_mode()}

    # --- the probe ------------------------------------------------------------------------
    def scoring_mode(self) -> str:
        """The mode this server scores options with, probing it on first use (see the module docstring).

        Raises :class:`RecaugInputError` when the server fails every mode it was allowed to use.
        """
        with self._probe_lock:
            if self._mode is None:
                self._mode = self._probe(PROBE_ORDER)
            return self._mode

    def check_scoring(self) -> None:
        """Probe now (an augmenter that scores calls this in ``fit``), so a server that cannot score is refused
        before any work is done."""
        mode = self.scoring_mode()
        if self.score_mode != "auto" and not self.probe_report:
            with self._probe_lock:
                self._probe((mode,))

    def _probe(self, modes: tuple[str, ...]) -> str:
        for mode in modes:
            verdict = self._passes(mode)
            self.probe_report.append(f"{mode}: {verdict or 'ok'}")
            if not verdict:
                logger.info("LLM server %s scores options by %s", self.base_url, mode)
                return mode
        raise RecaugInputError(
            f"the LLM server at {self.base_url} ({self.model}) cannot score options reliably: "
            + "; ".join(self.probe_report),
            fix="use a server that returns prompt log-probabilities (vLLM) or top log-probs, or a larger model "
            "that answers simple questions, or the local backend",
        )

    def _passes(self, mode: str) -> str:
        """'' when ``mode`` answers every known-answer question right, else what went wrong."""
        for question, options, right in PROBE:
            scores = self._score_in_mode(mode, question, list(options))
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

    def _score_in_mode(self, mode: str, prompt: str, options: list[str]) -> Scores:
        if mode == "logprobs":
            try:
                return self._score_logprobs(prompt, options)
            except EndpointUnavailable as err:
                return failed_scores(len(options), f"completions logprobs unavailable ({err})")
        if mode == "top-logprobs":
            return self._score_top_logprobs(prompt, options)
        return self._score_choice(prompt, options)

    def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        mode = self.scoring_mode()
        return self._map(lambda i: self._score_in_mode(mode, prompts[i], options_list[i]), len(prompts))

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


def parse_letter(text: str, n: int) -> int | None:
    """Index of a lettered answer ("B", "B.", "(B)", "Answer: B") among ``n`` options, or None."""
    import re

    match = re.search(r"(?<![A-Za-z])([A-Z])(?![a-z])", str(text).strip().removeprefix("Answer:").strip())
    if match and match.group(1) in LETTERS[:n]:
        return LETTERS.index(match.group(1))
    return None
