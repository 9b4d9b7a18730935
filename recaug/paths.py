"""Where recaug keeps caches and runs: ``$RECAUG_HOME`` or ``~/.cache/recaug``."""

from __future__ import annotations

import os
from pathlib import Path


def recaug_home() -> Path:
    """Root folder for caches (embeddings, LLM responses, converted models) and the run store."""
    root = Path(os.environ.get("RECAUG_HOME", Path.home() / ".cache" / "recaug"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_dir(kind: str) -> Path:
    """A sub-folder of the cache for one kind of artefact."""
    folder = recaug_home() / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder
