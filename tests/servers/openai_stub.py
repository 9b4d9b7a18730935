"""A real OpenAI-compatible HTTP server for tests: serves the packaged model on 127.0.0.1, with fault injection.

Endpoints: ``GET /v1/models``, ``POST /v1/chat/completions`` and ``POST /v1/completions`` (with ``echo`` +
``logprobs`` for option scoring, as vLLM offers). ``faults`` is a queue of misbehaviours applied to the next POST
requests, one each: ``"500"``, ``"429"``, ``"malformed"`` (invalid JSON), ``"shape"`` (JSON without choices),
``"slow"`` (answers after ``slow_seconds``), ``"drop"`` (closes the connection without answering).
``completions=False`` makes ``/v1/completions`` answer 404, like servers that only speak chat.

Faulty scoring, as real servers do it (for the probe tests): ``echo="ignored"`` answers an ``echo`` request
without the prompt's tokens (every option then scores 0), ``echo="own-position"`` scores each prompt token with
its own position's logits (llama-cpp-python's bug), ``echo="needs-bos"`` does that unless the text starts with
the model's beginning-of-text token, which it then drops from the echo and counts offsets after (llama-cpp-python
on a model without ``add_bos``, issue #1983), ``list_prompts=False`` answers a list of prompts with HTTP 500 (as
llama-cpp-python does), ``top_logprobs=False`` never returns top log-probs, and
``chat_reply`` answers every chat request with that fixed text. ``top_logprobs`` and ``chat_reply`` may also be
functions of the prompt text: a stand-in for a model strong enough to answer lettered questions.
``retry_after`` is sent with injected 429/500s; ``always`` is a fault applied to every POST (a broken server).
Every request is recorded: ``requests`` (POST paths), ``urls`` (path and query string, GETs too), ``bodies``,
``authorization``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from recaug.text.llm.local import LocalBackend

BOS = "<|im_start|>"  # SmolLM2's beginning-of-text token (its GGUF sets no add_bos)


class OpenAIStub:
    """Context manager: ``with OpenAIStub(backend) as stub: stub.url`` -> ``http://127.0.0.1:PORT/v1``."""

    def __init__(
        self,
        backend: LocalBackend,
        *,
        model_name: str = "smollm2-stub",
        completions: bool = True,
        slow_seconds: float = 1.5,
        echo: str = "correct",
        top_logprobs: bool | Callable[[str], dict[str, float]] = True,
        chat_reply: str | Callable[[str], str] | None = None,
        retry_after: str | None = None,
        list_prompts: bool = True,
        always: str | None = None,
    ) -> None:
        self.backend = backend
        self.model_name = model_name
        self.completions = completions
        self.slow_seconds = slow_seconds
        self.echo = echo
        self.top_logprobs = top_logprobs
        self.chat_reply = chat_reply
        self.retry_after = retry_after
        self.list_prompts = list_prompts
        self.always = always
        self.urls: list[str] = []
        self.created = time.time_ns()
        self.bodies: list[dict[str, Any]] = []
        self.request_times: list[float] = []
        self.faults: deque[str] = deque()
        self.requests: list[str] = []
        self.authorization: list[str | None] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Requests still being answered: the model behind them runs torch in handler threads, and an interpreter
        # that exits while one is mid-computation aborts (rc 134) although every test passed.
        self._busy = 0
        self._idle = threading.Condition()

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> OpenAIStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                if status >= 429 and stub.retry_after is not None:
                    self.send_header("Retry-After", stub.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                stub.urls.append(self.path)
                stub.authorization.append(self.headers.get("Authorization"))
                if self.path.split("?")[0].rstrip("/") == "/v1/models":
                    # "created" differs per stub, as a restarted server's would: a probe memo never outlives one.
                    model = {"id": stub.model_name, "object": "model", "created": stub.created}
                    self._send(200, json.dumps({"data": [model]}).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_POST(self) -> None:
                with stub._idle:
                    stub._busy += 1
                try:
                    self._answer()
                finally:
                    with stub._idle:
                        stub._busy -= 1
                        stub._idle.notify_all()

            def _answer(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                stub.urls.append(self.path)
                stub.bodies.append(body)
                path = self.path.split("?")[0]
                stub.requests.append(path)
                stub.request_times.append(time.monotonic())
                stub.authorization.append(self.headers.get("Authorization"))
                fault = stub.faults.popleft() if stub.faults else stub.always
                if not stub.list_prompts and isinstance(body.get("prompt"), list) and body.get("echo"):
                    fault = "500"
                if fault in ("500", "429"):
                    self._send(int(fault), b'{"error": "injected"}')
                    return
                if fault == "malformed":
                    self._send(200, b'{"choices": [ {"message": ')
                    return
                if fault == "shape":
                    self._send(200, b'{"object": "chat.completion"}')
                    return
                if fault == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "slow":
                    time.sleep(stub.slow_seconds)
                if path == "/v1/chat/completions":
                    self._send(200, json.dumps(stub.chat(body)).encode())
                elif path == "/v1/completions" and stub.completions:
                    self._send(200, json.dumps(stub.complete(body)).encode())
                else:
                    self._send(404, b'{"error": "no such endpoint"}')

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="openai-stub", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._idle:  # wait for answers in flight (not for idle kept-alive connections, which never end)
            self._idle.wait_for(lambda: self._busy == 0, timeout=300)
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- the model behind the endpoints ------------------------------------------------
    def top(self, text: str, k: int) -> dict[str, float]:
        """Top next-token log-probs: the model's, or the test's stand-in function's."""
        if callable(self.top_logprobs):
            return self.top_logprobs(text)
        return self.backend.next_token_logprobs(text, k)

    def echoed(self, text: str) -> tuple[list[str], list[float | None], list[int]]:
        """Echo tokens, log-probs and offsets of one prompt, right or wrong as ``echo`` asks."""
        if self.echo == "needs-bos" and text.startswith(BOS):
            tokens, values, offsets = self.backend.text_logprobs([text])[0]
            # The BOS is dropped and offsets count from after it; the first remaining token has no log-prob.
            return tokens[1:], [None, *values[2:]], [o - len(BOS) for o in offsets[1:]]
        wrong = self.echo in ("own-position", "needs-bos")
        return self.backend.text_logprobs([text], own_position=wrong)[0]

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        text = self.backend.format_messages(body["messages"])
        out = self.backend.generate_formatted(
            [text], int(body.get("max_tokens", 64)), float(body.get("temperature", 0.0)), int(body.get("seed", 0))
        )[0]
        reply = self.chat_reply
        content = out.text if reply is None else reply if isinstance(reply, str) else reply(text)
        logprobs = None
        if body.get("logprobs") and self.top_logprobs:
            top = self.top(text, int(body.get("top_logprobs") or 1))
            first = max(top, key=top.__getitem__)
            entries = [{"token": t, "logprob": v} for t, v in top.items()]
            logprobs = {"content": [{"token": first, "logprob": top[first], "top_logprobs": entries}]}
        return {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "model": self.model_name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "logprobs": logprobs,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": out.tokens_in,
                "completion_tokens": out.tokens_out,
                "total_tokens": out.tokens_in + out.tokens_out,
            },
        }

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
        choices, prompt_tokens = [], 0
        if body.get("echo") and self.echo != "ignored":
            scored = [self.echoed(prompt) for prompt in prompts]
            for i, (tokens, values, offsets) in enumerate(scored):
                prompt_tokens += len(tokens)
                choices.append(
                    {
                        "index": i,
                        "text": prompts[i],
                        "finish_reason": "length",
                        "logprobs": {
                            "tokens": tokens,
                            "token_logprobs": values,
                            "text_offset": offsets,
                            "top_logprobs": None,
                        },
                    }
                )
        else:
            outs = self.backend.generate_formatted(
                prompts, int(body.get("max_tokens", 16)), float(body.get("temperature", 0.0)), int(body.get("seed", 0))
            )
            for i, out in enumerate(outs):
                prompt_tokens += out.tokens_in
                logprobs = None
                if body.get("logprobs") is not None:  # the generated token's log-prob (and top ones when asked)
                    top = self.top(prompts[i], max(int(body["logprobs"]), 1))
                    first = max(top, key=top.__getitem__)
                    logprobs = {
                        "tokens": [first],
                        "token_logprobs": [top[first]],
                        "text_offset": [len(prompts[i])],
                        "top_logprobs": [top] if self.top_logprobs else None,
                    }
                text = prompts[i] + out.text if body.get("echo") else out.text
                choices.append({"index": i, "text": text, "finish_reason": "stop", "logprobs": logprobs})
        return {
            "id": "cmpl-stub",
            "object": "text_completion",
            "model": self.model_name,
            "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 0, "total_tokens": prompt_tokens},
        }
