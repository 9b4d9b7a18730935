"""2-D projections of users/items (real and synthetic share one fit): PCA instantly, UMAP when ready.

UMAP's first fit in a process pays numba compilation (~60 s cold); recaug
points numba's on-disk cache at ``$RECAUG_HOME/numba`` and warms it up in the
background so the user rarely waits.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from recaug.core.paths import cache_dir

METHODS = ("pca", "umap")
MAX_POINTS = 50_000  # above this many points UMAP is fitted (and the page draws) a seeded sample
PLACEMENT_TEMPERATURE = 0.02  # cosine-similarity scale of the neighbour weights when placing new points


def _enable_numba_cache() -> None:
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir("numba")))


def pca_basis(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and the two sign-fixed principal axes (2, d), so new points can be placed in the same plane.

    With more points than dimensions the axes come from the d x d covariance (milliseconds for
    5,000 x 384); single-threaded, because on a few shared cores BLAS threads mostly wait for each other.
    """
    x = np.asarray(vectors, dtype=np.float64)
    mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
    comps = np.zeros((2, x.shape[1]))
    if x.shape[0] >= 2:
        centred = x - mean
        with threadpool_limits(1):
            if x.shape[0] >= x.shape[1]:
                _, vectors_ = np.linalg.eigh(centred.T @ centred)
                top = vectors_[:, ::-1][:, : min(2, x.shape[1])].T
            else:
                top = np.linalg.svd(centred, full_matrices=False)[2][:2]
        signs = np.sign(top[np.arange(len(top)), np.abs(top).argmax(axis=1)])
        comps[: len(top)] = top * signs[:, None]
    return mean, comps


def pca_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """Deterministic 2-D PCA (sign-fixed so repeated runs agree)."""
    mean, comps = pca_basis(vectors)
    return ((np.asarray(vectors, dtype=np.float64) - mean) @ comps.T).astype(np.float32)


def cosine_knn(vectors: np.ndarray, k: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by cosine distance (self first), in blocks of rows.

    Exact search by matrix product is fast for the few thousand points the explorer shows, and it
    keeps UMAP off pynndescent, whose numba code is not disk-cached and costs ~30 s per process.
    """
    x = np.asarray(vectors, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    k = min(k, len(x))
    indices = np.empty((len(x), k), dtype=np.int32)
    distances = np.empty((len(x), k), dtype=np.float32)
    for start in range(0, len(x), chunk):
        with threadpool_limits(1):
            sims = x[start : start + chunk] @ x.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = np.inf  # each point is its own nearest neighbour, as UMAP expects
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        part_sims = np.take_along_axis(sims, part, axis=1)
        order = np.lexsort((part, -part_sims), axis=1)
        indices[start : start + chunk] = np.take_along_axis(part, order, axis=1)
        best = np.take_along_axis(part_sims, order, axis=1)
        best[:, 0] = 1.0
        distances[start : start + chunk] = np.clip(1.0 - best, 0.0, 2.0)
    return indices, distances


def umap_2d(
    vectors: np.ndarray, seed: int = 0, n_neighbors: int = 15, min_dist: float = 0.1, n_epochs: int = 200
) -> np.ndarray:
    """UMAP to 2-D with a fixed seed (single-threaded, so it is reproducible) on exact cosine neighbours."""
    _enable_numba_cache()
    import warnings

    import umap

    n = len(vectors)
    if n < 4:
        return pca_2d(vectors, seed)
    k = min(n_neighbors, n - 1)
    knn = cosine_knn(vectors, k)
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=k,
        min_dist=min_dist,
        metric="cosine",
        random_state=seed,
        n_jobs=1,
        init="random" if n < 50 else "spectral",
        n_epochs=n_epochs,
        precomputed_knn=(knn[0], knn[1], None),
    )
    with warnings.catch_warnings():
        # No search index is passed on purpose: new points are placed by neighbours, not by transform().
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
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


def cached_project(vectors: np.ndarray, method: str = "pca", seed: int = 0, *, use_cache: bool = True) -> np.ndarray:
    """:func:`project` with an on-disk cache keyed by the vectors' content, so a re-run is instant."""
    if not use_cache:
        return project(vectors, method, seed)
    path = cache_dir("projections") / f"{projection_key(vectors, method, seed)}.npy"
    if path.exists():
        return np.load(path)
    coords = project(vectors, method, seed)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, coords)
    tmp.replace(path)
    return coords


@dataclass(frozen=True)
class ProjectionSpace:
    """A fitted 2-D map of reference vectors that can place new vectors (e.g. a what-if item) in it.

    PCA places exactly with the fitted axes; UMAP (no cheap exact transform) places a point at the
    similarity-weighted mean position of its nearest reference points.
    """

    method: str
    vectors: np.ndarray  # L2-normalised reference vectors (n, d)
    coords: np.ndarray  # (n, 2)
    mean: np.ndarray | None = None
    components: np.ndarray | None = None

    def place(self, new_vectors: np.ndarray, n_neighbours: int = 10, among: np.ndarray | None = None) -> np.ndarray:
        """(m, d) -> (m, 2) positions in this space; ``among`` limits neighbour placement to those reference rows
        (e.g. only items, so a new item is not pulled towards users who resemble it)."""
        new = np.atleast_2d(np.asarray(new_vectors, dtype=np.float64))
        if self.method == "pca" and self.mean is not None and self.components is not None:
            return ((new - self.mean) @ self.components.T).astype(np.float32)
        rows = np.arange(len(self.vectors)) if among is None else np.asarray(among)
        rows = rows[np.isfinite(self.coords[rows, 0])]  # only points the projection placed (a sampled UMAP)
        new = new / np.maximum(np.linalg.norm(new, axis=1, keepdims=True), 1e-12)
        sims = new @ self.vectors[rows].T
        k = min(n_neighbours, len(rows))
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        near = np.take_along_axis(sims, top, axis=1)
        # Sharp weights: neighbours may sit in different UMAP clusters, and a plain mean lands in the empty
        # space between them; this keeps the point with the few neighbours that are nearly as close as the best.
        weights = np.exp((near - near.max(axis=1, keepdims=True)) / PLACEMENT_TEMPERATURE)
        weights /= weights.sum(axis=1, keepdims=True)
        return np.einsum("mk,mkc->mc", weights, self.coords[rows][top]).astype(np.float32)


def projection_sample(n: int, seed: int = 0, max_points: int | None = None) -> np.ndarray:
    """Sorted row indices of a seeded sample of ``max_points`` (default ``MAX_POINTS``) of ``n`` points (all of
    them when n is small). One function for the projection and the page, so the points UMAP placed are drawn.
    """
    max_points = MAX_POINTS if max_points is None else max_points
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, n]).choice(n, size=max_points, replace=False))


def fit_projection(
    vectors: np.ndarray, method: str = "pca", seed: int = 0, *, use_cache: bool = True, max_points: int | None = None
) -> ProjectionSpace:
    """Project ``vectors`` (cached on disk by content) and keep what is needed to place new points later.

    PCA projects every point (it is instant). UMAP above ``max_points`` is fitted on :func:`projection_sample`
    only, and the other rows get NaN coordinates: UMAP's cost grows faster than the data, and a scatter of
    more points is unreadable anyway. The Embeddings page draws the same sample and says so.
    """
    x = np.asarray(vectors, dtype=np.float64)
    normalised = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    if method == "pca":  # instant: fit once, no cache needed
        mean, comps = pca_basis(x)
        coords = ((x - mean) @ comps.T).astype(np.float32)
        return ProjectionSpace(method=method, vectors=normalised, coords=coords, mean=mean, components=comps)
    rows = projection_sample(len(x), seed, max_points)
    if len(rows) == len(x):
        coords = cached_project(vectors, method, seed, use_cache=use_cache)
        return ProjectionSpace(method=method, vectors=normalised, coords=coords)
    coords = np.full((len(x), 2), np.nan, dtype=np.float32)
    coords[rows] = cached_project(np.asarray(vectors)[rows], method, seed, use_cache=use_cache)
    return ProjectionSpace(method=method, vectors=normalised, coords=coords)


def warm_umap() -> None:
    """Compile UMAP's numba code once (cached on disk) with a tiny fit."""
    rng = np.random.default_rng(0)
    umap_2d(rng.normal(size=(300, 16)).astype(np.float32), seed=0)
