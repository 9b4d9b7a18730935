"""2-D projections of users/items (real and synthetic share one fit): PCA instantly, UMAP when ready.

UMAP's first fit in a process pays numba compilation (~60 s cold); recaug
points numba's on-disk cache at ``$RECAUG_HOME/numba`` and warms it up in the
background so the user rarely waits.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from recaug.paths import cache_dir

METHODS = ("pca", "umap")


def _enable_numba_cache() -> None:
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir("numba")))


def pca_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """Deterministic 2-D PCA (sign-fixed so repeated runs agree)."""
    x = np.asarray(vectors, dtype=np.float64)
    x = x - x.mean(axis=0, keepdims=True)
    if x.shape[0] < 2:
        return np.zeros((x.shape[0], 2), dtype=np.float32)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    comps = vt[:2]
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    out = x @ (comps * signs[:, None]).T
    if out.shape[1] < 2:
        out = np.hstack([out, np.zeros((out.shape[0], 2 - out.shape[1]))])
    return out.astype(np.float32)


def umap_2d(vectors: np.ndarray, seed: int = 0, n_neighbors: int = 15, min_dist: float = 0.1) -> np.ndarray:
    """UMAP to 2-D with a fixed seed (single-threaded, so it is reproducible)."""
    _enable_numba_cache()
    import umap

    n = len(vectors)
    if n < 4:
        return pca_2d(vectors, seed)
    reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, n - 1), min_dist=min_dist,
                        metric="cosine", random_state=seed, n_jobs=1, init="random" if n < 50 else "spectral")
    return reducer.fit_transform(np.asarray(vectors, dtype=np.float32)).astype(np.float32)


def project(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """Dispatch to PCA or UMAP; vectors is (n, d)."""
    if method == "pca":
        return pca_2d(vectors, seed)
    if method == "umap":
        return umap_2d(vectors, seed)
    raise ValueError(f"unknown projection '{method}' (use one of {METHODS})")


def projection_key(vectors: np.ndarray, method: str, seed: int) -> str:
    """Content hash for caching projections by data, not by object identity."""
    digest = hashlib.sha256(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    digest.update(f"{method}:{seed}".encode())
    return digest.hexdigest()[:20]


def warm_umap() -> None:
    """Compile UMAP's numba code once (cached on disk) with a tiny fit."""
    rng = np.random.default_rng(0)
    umap_2d(rng.normal(size=(300, 16)).astype(np.float32), seed=0)
