"""Run a snippet in a fresh interpreter with only ``path`` importable: what a user's own import would see."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def fresh_python(code: str, path: Path, cwd: Path) -> str:
    """stdout of ``python -c code`` with PYTHONPATH=``path`` and a bare PATH (raises if it fails)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"},
    )
    return done.stdout
