"""``create_backend``: builds an LLM backend by name, so the contract (:mod:`recaug.text.llm.base`) never imports
the backends that implement it (local transformers, OpenAI-compatible HTTP)."""

from __future__ import annotations

import time
from typing import Any

from recaug.core.errors import RecaugInputError
from recaug.text.llm.base import LLMBackend

BACKEND_KINDS = ("local", "openai")


def create_backend(
    kind: str | LLMBackend = "local", model: str | None = None, base_url: str | None = None, **options: Any
) -> LLMBackend:
    """Build a backend by name: ``local`` (transformers; packaged SmolLM2 or a local HF folder) or ``openai``
    (an OpenAI-compatible server at ``base_url``). An existing backend is returned as is.

    Raises :class:`RecaugInputError` for an unknown kind, a base URL given to the local backend, or a server that
    cannot be reached.
    """
    if isinstance(kind, LLMBackend):
        return kind
    started = time.perf_counter()
    if kind == "local":
        from recaug.text.llm.local import LocalBackend  # heavy (torch, transformers): only when asked for

        if base_url:
            raise RecaugInputError(
                "the local backend takes no base URL",
                fix="use backend 'openai' to talk to a server, or drop the base URL",
            )
        backend: LLMBackend = LocalBackend(model=model, **options)
    elif kind == "openai":
        from recaug.text.llm.openai_http import OpenAIBackend  # httpx: only when asked for

        backend = OpenAIBackend(base_url=base_url, model=model, **options)
    else:
        raise RecaugInputError(f"unknown LLM backend '{kind}'", fix=f"choose one of: {', '.join(BACKEND_KINDS)}")
    backend.setup_seconds = time.perf_counter() - started
    return backend
