"""Finished fits on disk, so a run that lost some fits (a failed task, a lost node) reruns only those.

A fit's key is a hash of everything that decides its result: the data's fingerprint, the configuration (every
field but the seed list and the stopping rule, which only decide *which* seeds run, and the other models'
parameters), the seed, the arm, the model, the slicing function, whether the model is kept, and a hash of
recaug's source (so an edited model never reads a fit of the old code). A rerun of the same comparison finds the
finished fits under their keys and submits the rest. Entries are pickles written by this package to the user's
own cache folder (``$RECAUG_HOME/fits``), read back only by it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from recaug.experiment.config import ExperimentConfig

NOT_IN_KEY = ("seeds", "max_seeds", "primary", "models", "model_params")  # the fit's own model goes in by name


@functools.cache
def code_fingerprint() -> str:
    """A hash of every source file of the recaug package (read from disk once per process)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class FitCache:
    """Fit outcomes by key under ``folder`` (written atomically: a crash never leaves half an entry)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def key(
        self, fingerprint: str, config: ExperimentConfig, fit: tuple[str, str, int], slice_fn: Any, keep_models: bool
    ) -> str:
        model, variant, seed = fit
        settings = {k: v for k, v in config.to_dict().items() if k not in NOT_IN_KEY}
        settings["model_params"] = config.model_params.get(model, {})
        identity = {
            "data": fingerprint,
            "config": settings,
            "fit": [model, variant, seed],
            "slices": f"{slice_fn.__module__}.{slice_fn.__qualname__}",
            "keep_models": keep_models,
            "code": code_fingerprint(),
        }
        text = json.dumps(identity, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def get(self, key: str) -> Any:
        """The stored outcome, or None (absent or unreadable: it is simply fitted again)."""
        path = self.folder / f"{key}.pkl"
        if not path.exists():
            return None
        try:
            with path.open("rb") as handle:
                return pickle.load(handle)
        except Exception:  # a damaged entry costs one refit, never the run
            return None

    def put(self, key: str, outcome: Any) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(outcome, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, self.folder / f"{key}.pkl")

    def count(self) -> int:
        """Entries stored."""
        return len(list(self.folder.glob("*.pkl"))) if self.folder.exists() else 0
