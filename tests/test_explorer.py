"""Embedding explorer: one projection for items, real, augmented and virtual users; disk cache; selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recaug.analysis.explorer import POINT_COLUMNS, embedding_points, selection_table
from recaug.analysis.projection import ProjectionSpace, cached_project, cosine_knn, fit_projection, pca_2d
from recaug.text.encoder import encode_texts
from tests.runs_fixtures import small_experiment


@pytest.fixture(scope="module")
def setup():
    dataset, result = small_experiment()
    from recaug.data.splits import make_split

    train = make_split(dataset.interactions, result.config.protocol, 0).train
    synthetic = result.synthetic[result.synthetic["seed"] == 0]
    virtual = pd.DataFrame(
        {"user_id": "virtual:7", "item_id": ["50", "172", "181"], "origin": "gen", "confidence": 0.9}
    )
    vectors = encode_texts(dataset.items["text"].tolist())
    return dataset, train, pd.concat([synthetic, virtual], ignore_index=True), vectors


def test_points_cover_items_and_every_kind_of_user(setup) -> None:
    dataset, train, synthetic, vectors = setup
    emap = embedding_points(dataset, train, synthetic, item_vectors=vectors, method="pca")
    points = emap.points
    assert list(points.columns) == POINT_COLUMNS and points["point_id"].is_unique
    touched = synthetic[synthetic["origin"] == "random"]["user_id"].nunique()
    assert len(points) == dataset.n_items + dataset.n_users + touched + 1
    counts = points.groupby(["kind", "origin"]).size().to_dict()
    assert counts == {
        ("item", "real"): dataset.n_items,
        ("user", "real"): dataset.n_users,
        ("user", "synthetic"): touched,
        ("user", "virtual"): 1,
    }
    assert np.isfinite(points[["x", "y"]].to_numpy()).all()
    star_wars = points[points["point_id"] == "item:50"].iloc[0]
    assert star_wars["label"] == "Star Wars (1977)" and star_wars["cold_warm"] == "warm"
    virtual = points[points["origin"] == "virtual"].iloc[0]
    assert virtual["method"] == "gen" and virtual["n_synthetic"] == 3 and "Star Wars" in virtual["hover"]
    # A virtual user sits where the mean of its items' vectors projects: one shared space.
    idx = dataset.item_ids.get_indexer(["50", "172", "181"])
    expected = emap.space.place(vectors[idx].mean(axis=0, keepdims=True))[0]
    assert virtual[["x", "y"]].to_numpy(float) == pytest.approx(expected, abs=1e-4)
    again = embedding_points(dataset, train, synthetic, item_vectors=vectors, method="pca")
    assert again.points[["x", "y"]].equals(points[["x", "y"]])


def test_projections_are_cached_on_disk_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECAUG_HOME", str(tmp_path))
    x = np.random.default_rng(2).normal(size=(50, 4))
    first = cached_project(x, "pca", seed=0)
    assert len(list((tmp_path / "projections").glob("*.npy"))) == 1

    def not_again(*_: object) -> np.ndarray:
        raise AssertionError("recomputed instead of reading the cache")

    monkeypatch.setattr("recaug.analysis.projection.project", not_again)
    assert (cached_project(x, "pca", seed=0) == first).all()
    with pytest.raises(AssertionError, match="recomputed"):
        cached_project(x + 1e-3, "pca", seed=0)  # other data, other key


def test_selection_table_lists_synthetic_rows_of_selected_points(setup) -> None:
    dataset, train, synthetic, vectors = setup
    points = embedding_points(
        dataset, train, synthetic, item_vectors=vectors, include_users=True, use_cache=False
    ).points
    some_user = synthetic[synthetic["origin"] == "random"]["user_id"].iloc[0]
    table = selection_table(points, [f"random:{some_user}", "gen:virtual:7"], synthetic, dataset)
    expected = ((synthetic["user_id"] == some_user) & (synthetic["origin"] == "random")).sum() + 3
    assert len(table) == expected and "title" in table.columns
    by_item = selection_table(points, ["item:50"], synthetic, dataset)
    assert (by_item["item_id"] == "50").all() and len(by_item) == (synthetic["item_id"] == "50").sum()
    assert selection_table(points, [], synthetic, dataset).empty


def test_cosine_knn_is_exact() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    indices, distances = cosine_knn(x, 6, chunk=64)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, np.inf)
    brute = np.argsort(-sims, axis=1)[:, :6]
    assert (indices == brute).all()
    assert (distances[:, 0] == 0).all() and (np.diff(distances, axis=1) >= -1e-6).all()


def test_projection_spaces_place_new_points() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 8))
    space = fit_projection(x, "pca", use_cache=False)
    assert space.place(x[:5]) == pytest.approx(pca_2d(x)[:5], abs=1e-4)
    coords = rng.normal(size=(200, 2)).astype(np.float32)
    neighbour_space = ProjectionSpace(
        method="umap", vectors=x / np.linalg.norm(x, axis=1, keepdims=True), coords=coords
    )
    placed = neighbour_space.place(x[3], n_neighbours=1)[0]
    assert placed == pytest.approx(coords[3])
    # Restricted to some reference rows (e.g. items only), the point sits with the nearest of those.
    others = np.arange(100, 200)
    nearest = others[np.argmax(neighbour_space.vectors[others] @ neighbour_space.vectors[3])]
    assert neighbour_space.place(x[3], n_neighbours=1, among=others)[0] == pytest.approx(coords[nearest])
