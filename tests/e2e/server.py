"""Start the dashboard with ``streamlit run`` on a free 127.0.0.1 port, and stop it again.

Shared by the browser test's fixture and ``scripts/screenshots.py`` so both drive the app exactly as a user
would start it. Output goes to a log FILE: with a closed stdout pipe streamlit ignores SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0
# Content-keyed compute caches: the same input always gives the same file, so sharing them is safe.
SHARED_CACHES = ("embeddings", "numba")
# Lines the server logs when the app failed, even where the page only showed a friendly message (streamlit
# prints uncaught exceptions as a rich "Traceback" box; ui.errors logs unexpected ones with logger.exception).
FAILURE_MARKERS = ("Traceback", "Uncaught app execution", "unexpected error while trying to", "warm-up failed")


@dataclass
class AppServer:
    """A running ``streamlit run app.py``: its URL and the log file holding its stdout and stderr."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def failures(self) -> list[str]:
        """Log lines that show the app hit an error (tracebacks are also hidden from users, so check here)."""
        return [line for line in self.log().splitlines() if any(m in line for m in FAILURE_MARKERS)]

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it is still alive after ``grace_s``."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=grace_s)


def free_port() -> int:
    """A port the OS says is free now (streamlit exits if an explicit port is taken; the caller retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_home(folder: Path, shared: tuple[str, ...] = SHARED_CACHES) -> Path:
    """A fresh ``RECAUG_HOME``: the run store and LLM caches start empty; content-keyed caches are shared.

    Sharing the normal home's text-embedding and numba caches saves the ~5 s item-text encode and the UMAP compile
    on a warm machine, while nothing stateful (the Compare page saves every run) leaks into or out of the test.
    """
    from recaug.core.paths import recaug_home

    folder.mkdir(parents=True, exist_ok=True)
    for kind in shared:
        source = recaug_home() / kind
        source.mkdir(parents=True, exist_ok=True)
        link = folder / kind
        if not link.exists():
            link.symlink_to(source, target_is_directory=True)
    return folder


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _start_once(log_path: Path, env: dict[str, str], timeout_s: float) -> AppServer | None:
    """One start attempt; None when the process exited early (e.g. the port was taken meanwhile)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = AppServer(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        if _healthy(server.url):
            return server
        time.sleep(0.25)
    server.stop()
    raise TimeoutError(f"streamlit did not become healthy in {timeout_s:.0f} s; log:\n{server.log()[-4000:]}")


def start_app(
    log_path: Path, *, home: Path | None = None, timeout_s: float = START_TIMEOUT_S, attempts: int = 3
) -> AppServer:
    """Start the app; ``home`` sets ``RECAUG_HOME`` and keeps saved runs in it (None keeps the caller's)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if home is not None:
        env["RECAUG_HOME"] = str(home)
        env.pop("RECAUG_RUNS_DIR", None)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(attempts):
        server = _start_once(log_path, env, timeout_s)
        if server is not None:
            return server
    raise RuntimeError(f"streamlit exited during start-up {attempts} times; log:\n{log_path.read_text()[-4000:]}")


@contextmanager
def running_app(log_path: Path, *, home: Path | None = None) -> Iterator[AppServer]:
    """``start_app`` that always stops the server, even when the body fails."""
    server = start_app(log_path, home=home)
    try:
        yield server
    finally:
        server.stop()
