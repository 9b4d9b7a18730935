"""Background UMAP jobs shared by all sessions: PCA is shown at once, UMAP replaces it when ready."""

from __future__ import annotations

import concurrent.futures as cf
import threading

import numpy as np
import streamlit as st

from recaug.projection import pca_2d, project, projection_key


class ProjectionJobs:
    """One worker thread; results cached by content hash (same vectors -> same projection, computed once)."""

    def __init__(self) -> None:
        self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="recaug-umap")
        self._jobs: dict[str, cf.Future[np.ndarray]] = {}
        self._lock = threading.Lock()

    def submit(self, vectors: np.ndarray, method: str, seed: int = 0) -> cf.Future[np.ndarray]:
        key = projection_key(vectors, method, seed)
        with self._lock:
            job = self._jobs.get(key)
            if job is None or (job.done() and job.exception() is not None):
                job = self._pool.submit(project, vectors, method, seed)
                self._jobs[key] = job
            return job


@st.cache_resource
def projection_jobs() -> ProjectionJobs:
    return ProjectionJobs()


def best_projection(vectors: np.ndarray, method: str, seed: int = 0) -> tuple[np.ndarray, str]:
    """(coords, label): the requested projection if ready, else instant PCA while it computes."""
    if method == "pca":
        return pca_2d(vectors, seed), "PCA"
    job = projection_jobs().submit(vectors, method, seed)
    if job.done():
        if job.exception() is None:
            return job.result(), "UMAP"
        return pca_2d(vectors, seed), f"PCA (UMAP failed: {job.exception()})"
    return pca_2d(vectors, seed), "PCA (UMAP is computing in the background…)"
