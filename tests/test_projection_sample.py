"""Large maps: above MAX_POINTS, UMAP is fitted on one seeded sample (the one the page draws); PCA keeps all."""

from __future__ import annotations

import numpy as np
import pytest

from recaug.analysis import projection
from recaug.analysis.projection import fit_projection, projection_sample


def test_sample_is_seeded_sorted_and_complete_when_small() -> None:
    assert np.array_equal(projection_sample(30, seed=0, max_points=50), np.arange(30))
    a = projection_sample(1000, seed=0, max_points=100)
    assert len(a) == 100 and np.all(np.diff(a) > 0)
    assert np.array_equal(a, projection_sample(1000, seed=0, max_points=100))
    assert not np.array_equal(a, projection_sample(1000, seed=1, max_points=100))


def test_umap_above_the_limit_fits_only_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    fitted: list[int] = []

    def fake_project(vectors: np.ndarray, method: str, seed: int, *, use_cache: bool) -> np.ndarray:
        fitted.append(len(vectors))
        return np.asarray(vectors)[:, :2].astype(np.float32)

    monkeypatch.setattr(projection, "cached_project", fake_project)
    vectors = np.random.default_rng(0).normal(size=(300, 8))
    space = fit_projection(vectors, "umap", seed=0, max_points=120)
    rows = projection_sample(300, 0, 120)
    assert fitted == [120]
    assert np.isfinite(space.coords[rows]).all() and np.isnan(np.delete(space.coords, rows, axis=0)).all()
    placed = space.place(vectors[:5])  # placement only uses points the projection placed
    assert np.isfinite(placed).all()
    assert np.isfinite(fit_projection(vectors, "pca", max_points=120).coords).all()  # PCA: every point
