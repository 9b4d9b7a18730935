"""Background jobs shared by all sessions: show the instant answer now, the slow one when it's ready."""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable
from typing import Any

import streamlit as st


class BackgroundJobs:
    """One worker thread; a job is identified by a content key and computed at most once (failures retry)."""

    def __init__(self) -> None:
        self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="recaug-bg")
        self._jobs: dict[str, cf.Future[Any]] = {}
        self._lock = threading.Lock()

    def state(self, key: str) -> str:
        """'missing', 'running' or 'done' for the job with this key."""
        with self._lock:
            job = self._jobs.get(key)
        if job is None:
            return "missing"
        return "done" if job.done() else "running"

    def submit(self, key: str, compute: Callable[[], Any]) -> cf.Future[Any]:
        with self._lock:
            job = self._jobs.get(key)
            if job is None or (job.done() and job.exception() is not None):
                job = self._pool.submit(compute)
                self._jobs[key] = job
            return job


@st.cache_resource
def background_jobs() -> BackgroundJobs:
    return BackgroundJobs()


def ready_or(key: str, compute: Callable[[], Any], fallback: Callable[[], Any]) -> tuple[Any, bool, str | None]:
    """(value, is_final, error): the slow result if done, else the instant fallback while it computes."""
    job = background_jobs().submit(key, compute)
    if job.done():
        if job.exception() is None:
            return job.result(), True, None
        return fallback(), True, str(job.exception())
    return fallback(), False, None
