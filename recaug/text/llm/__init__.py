"""LLM backends behind one interface: ``generate`` free text, ``score`` options by log-likelihood.

``create_backend("local" | "openai", model=..., base_url=...)`` builds one; every call goes through the on-disk
response cache and is counted in ``backend.usage``. Heavy libraries (torch, transformers, httpx) load only when a
backend is created.
"""

from recaug.text.llm.base import Generation, LLMBackend, Scores, Usage
from recaug.text.llm.factory import create_backend

__all__ = ["Generation", "LLMBackend", "Scores", "Usage", "create_backend"]
