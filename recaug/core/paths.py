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


def installed_package_folder(module: str, *, package: str, install: str) -> Path:
    """Folder of an installed package found WITHOUT importing it (some data-only packages have heavy __init__s).

    Raises RecaugInputError naming the missing package and the command that installs it.
    """
    import importlib.util

    from recaug.core.errors import RecaugInputError

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise RecaugInputError(
            f"the package '{package}' is not installed",
            fix=f"run `recaug assets --install` (in a checkout: `make setup`), or {install}",
        )
    return Path(next(iter(spec.submodule_search_locations)))
