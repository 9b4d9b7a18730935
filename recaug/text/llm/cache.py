"""On-disk LLM response cache: one SQLite file under ``cache_dir("llm")``, safe across threads and processes.

Keys hash everything that changes an answer (backend, model, operation, prompt, parameters, seed), so a re-run of
the same augmentation makes no model call at all, and a changed prompt or model never returns a stale answer.
Only successful answers are stored; a failed call is retried on the next run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from recaug.core.paths import cache_dir


class ResponseCache:
    """``get(key) -> dict | None`` and ``put(key, value)`` over a small SQLite table."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir("llm") / "responses.sqlite"
        self._lock = threading.Lock()
        self._local = threading.local()
        with self._connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    @staticmethod
    def key(*, backend: str, model: str, op: str, prompt: str, params: dict[str, Any]) -> str:
        """A stable hash of everything that determines the answer."""
        blob = json.dumps(
            {"backend": backend, "model": model, "op": op, "prompt": prompt, "params": params},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _connect(self) -> sqlite3.Connection:
        # One connection per thread: sqlite3 connections must not be shared across threads.
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._connect().execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._connect().execute(
                "INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)",
                (key, json.dumps(value, ensure_ascii=False)),
            )

    def __len__(self) -> int:
        return int(self._connect().execute("SELECT COUNT(*) FROM responses").fetchone()[0])
