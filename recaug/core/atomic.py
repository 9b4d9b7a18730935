"""Folders written whole or not at all: each writer fills its own hidden temporary folder, then renames it.

The run store and the data store both publish folders this way. Each temporary folder has a unique name, so two
processes saving the same thing never write into (or delete) each other's folder; the loser of a rename race
finds the winner's folder and drops its own copy. Temporary folders left by a crashed or killed writer are
removed once they are older than any save takes.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"
STALE_AFTER_S = 3600.0  # a save takes seconds; a temporary folder this old belongs to a writer that died


def partial_folder(parent: Path, name: str) -> Path:
    """A new, empty, uniquely named hidden folder ``parent/.<name>.<random>.partial`` (stale ones removed)."""
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(parent)
    folder = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=PARTIAL_SUFFIX, dir=parent))
    folder.chmod(0o755)  # mkdtemp makes it private; a published run is as readable as any other folder
    return folder


def publish(partial: Path, target: Path) -> bool:
    """Rename a finished ``partial`` folder to ``target``; False (and ``partial`` removed) when ``target`` exists."""
    try:
        os.rename(partial, target)
    except OSError as err:
        if err.errno not in (errno.EEXIST, errno.ENOTEMPTY) and not target.exists():
            raise
        shutil.rmtree(partial, ignore_errors=True)
        return False
    return True


def remove_stale_partials(parent: Path, older_than: float = STALE_AFTER_S) -> list[Path]:
    """Remove temporary folders of writers that died (unchanged for ``older_than`` seconds); returns them."""
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(PARTIAL_SUFFIX)):
            continue
        try:
            stale = not entry.is_symlink() and entry.is_dir() and now - entry.stat().st_mtime > older_than
        except OSError:
            continue
        if stale:
            shutil.rmtree(entry, ignore_errors=True)
            logger.info("removed %s, left by an interrupted save", entry)
            removed.append(entry)
    return removed
