"""The Augment page's results kept on disk, so a browser refresh or a server restart finds them again.

The run store keeps what a *comparison* made; an augmentation previewed on the Augment page is not a run, yet it
may have cost minutes of LLM calls. It is kept here under a short digest of its data and settings, and the URL
names only that digest (never the settings: a base URL may carry a key).

Layout (``<recaug home>/augmentations/<digest>/``): ``config.json`` (the settings, keys redacted) and, per method,
``<n>.json`` (name, info, params) with ``<n>.rows.parquet`` and, when present, ``<n>.log.parquet``,
``<n>.removed.parquet``, ``<n>.item_init.parquet`` and ``<n>.artifact.<name>.parquet``. Written under a
temporary name and renamed, so a half-written copy is never read; the oldest are pruned beyond ``KEEP``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from recaug.augment.base import AugmentResult
from recaug.core.paths import cache_dir
from recaug.reporting.export import redact_secrets, to_parquet_bytes

logger = logging.getLogger(__name__)

KEEP = 32  # augmentations kept; older ones are removed when a new one is saved
CONFIG = "config.json"
ITEM_INIT_INDEX = "item_id"


def store_dir(root: str | Path | None = None) -> Path:
    """The folder of kept augmentations (created if missing)."""
    folder = Path(root) if root is not None else cache_dir("augmentations")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def augmentation_digest(fingerprint: str, config: dict[str, Any]) -> str:
    """16 hex digits naming one augmentation: the data fingerprint and the full settings."""
    payload = json.dumps([fingerprint, config], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _frame(value: Any) -> bool:
    return isinstance(value, pd.DataFrame)


def save_augmentation(
    fingerprint: str, config: dict[str, Any], results: dict[str, AugmentResult], root: str | Path | None = None
) -> str:
    """Keep ``results`` (made with ``config`` on the data ``fingerprint``); returns the digest that finds them."""
    digest = augmentation_digest(fingerprint, config)
    folder = store_dir(root)
    target = folder / digest
    if (target / CONFIG).exists():
        os.utime(target)  # recently used: pruned last
        return digest
    tmp = folder / f".{digest}.{uuid.uuid4().hex[:8]}.partial"
    tmp.mkdir()
    try:
        for position, (name, result) in enumerate(results.items()):
            frames = {"rows": result.rows, "log": result.log, "removed": result.removed}
            if result.item_init is not None:
                frames["item_init"] = result.item_init.rename_axis(ITEM_INIT_INDEX).reset_index()
            frames |= {f"artifact.{key}": value for key, value in result.artifacts.items() if _frame(value)}
            for part, frame in frames.items():
                if _frame(frame):
                    (tmp / f"{position}.{part}.parquet").write_bytes(to_parquet_bytes(frame))
            (tmp / f"{position}.json").write_text(_method_json(name, result))
        record = {"fingerprint": fingerprint, "config": config, "methods": list(results)}
        (tmp / CONFIG).write_text(json.dumps(redact_secrets(record), sort_keys=True, default=_plain))
        tmp.rename(target)
    except FileExistsError:  # another session kept the same augmentation first
        shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(folder)
    return digest


def update_info(digest: str, results: dict[str, AugmentResult], root: str | Path | None = None) -> bool:
    """Rewrite the kept augmentation's per-method info (e.g. after a check was run for it); each file is replaced
    whole, so a reader sees the old info or the new. False when ``digest`` is not kept (nothing is written)."""
    path = store_dir(root) / digest
    if not digest.isalnum() or not (path / CONFIG).exists():
        return False
    for position, (name, result) in enumerate(results.items()):
        tmp = path / f".{position}.{uuid.uuid4().hex[:8]}.json"
        tmp.write_text(_method_json(name, result))
        os.replace(tmp, path / f"{position}.json")
    return True


def _method_json(name: str, result: AugmentResult) -> str:
    record = {"name": name, "info": result.info, "params": result.params}
    return json.dumps(redact_secrets(record), default=_plain)


def load_augmentation(
    digest: str, root: str | Path | None = None
) -> tuple[str, dict[str, Any], dict[str, AugmentResult]]:
    """(data fingerprint, settings, results) kept under ``digest``; KeyError when there is no readable copy."""
    if not digest.isalnum():  # it comes from a URL: never a path
        raise KeyError(digest)
    path = store_dir(root) / digest
    try:
        record = json.loads((path / CONFIG).read_text())
        results = {}
        for position, _ in enumerate(record["methods"]):
            meta = json.loads((path / f"{position}.json").read_text())
            parts = {p.name.split(".", 1)[1].removesuffix(".parquet"): p for p in path.glob(f"{position}.*.parquet")}
            frames = {part: pd.read_parquet(file) for part, file in parts.items()}
            item_init = frames.pop("item_init", None)
            results[meta["name"]] = AugmentResult(
                rows=frames.pop("rows"),
                info=meta["info"],
                params=meta["params"],
                log=frames.pop("log", None),
                removed=frames.pop("removed", None),
                item_init=None if item_init is None else item_init.set_index(ITEM_INIT_INDEX),
                artifacts={part.removeprefix("artifact."): frame for part, frame in frames.items()},
            )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise KeyError(digest) from error
    return str(record["fingerprint"]), record["config"], results


def _prune(folder: Path) -> None:
    """Remove all but the ``KEEP`` most recently used augmentations, and leftovers of crashed saves."""
    kept = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), key=_mtime)
    for old in kept[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    for partial in folder.glob(".*.partial"):
        if _mtime(partial) < time.time() - 3600:  # an hour old: its writer is gone
            shutil.rmtree(partial, ignore_errors=True)


def _plain(value: Any) -> Any:
    """numpy scalars as numbers (``str`` would turn a count into text), anything else as text."""
    return value.item() if hasattr(value, "item") else str(value)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
