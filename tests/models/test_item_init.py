"""``item_init`` (llm-init): the projection keeps the random start's scale, leaves items without a vector alone,
changes nothing when absent, and gives cold items a place next to their text neighbours."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recaug.core.errors import RecaugInputError
from recaug.models import MODELS, create_model
from recaug.models.item_init import projected_item_factors, start_item_factors

FAST = {"max_epochs": 20, "lr": 0.01, "patience": 20}


def test_projection_has_the_random_start_scale_and_skips_missing_rows() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 16))
    vectors[[3, 7]] = np.nan
    projected, present = projected_item_factors(vectors, 8, 0.1)
    assert projected.shape == (48, 8) and present.sum() == 48 and not present[[3, 7]].any()
    assert projected.std() == pytest.approx(0.1, rel=1e-4)
    # PCA: the first component carries at least as much variance as the last.
    variances = projected.var(axis=0)
    assert variances[0] >= variances[-1]


def test_more_factors_than_text_dimensions_keep_the_random_start_there() -> None:
    rng = np.random.default_rng(1)
    random_start = rng.normal(scale=0.1, size=(30, 12)).astype(np.float32)
    start = start_item_factors(random_start, rng.normal(size=(30, 4)), 0.1)
    np.testing.assert_array_equal(start[:, 4:], random_start[:, 4:])
    assert not np.allclose(start[:, :4], random_start[:, :4])


def test_identical_texts_start_identical() -> None:
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(20, 10))
    vectors[5] = vectors[9]
    projected, _ = projected_item_factors(vectors, 6, 0.1)
    np.testing.assert_allclose(projected[5], projected[9], atol=1e-6)


def test_every_model_declares_whether_it_reads_item_init() -> None:
    flags = {name: MODELS.get(name).uses_item_init for name in MODELS.names()}
    assert flags["bpr"] and flags["lightgcn"] and flags["bpr-tuned"]
    assert not flags["pop"] and not flags["ease"] and not flags["itemknn"] and not flags["als"]


def _two_taste_groups() -> tuple[sp.csr_matrix, np.ndarray]:
    """Users 0-59 like items 0-17, users 60-119 like items 20-37; items 18, 19, 38, 39 are cold (no training
    rows). Item vectors: one direction per group, so each cold item's text says which group it belongs to."""
    rng = np.random.default_rng(3)
    rows, cols = [], []
    for user in range(120):
        liked = np.arange(0, 18) if user < 60 else np.arange(20, 38)
        picks = rng.choice(liked, size=8, replace=False)
        rows += [user] * len(picks)
        cols += picks.tolist()
    train = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(120, 40))
    vectors = rng.normal(scale=0.2, size=(40, 32))
    vectors[:20, 0] += 3.0
    vectors[20:, 1] += 3.0
    return train, vectors


def _cold_item_alignment(embeddings: np.ndarray) -> float:
    """How much closer (cosine) the cold items sit to their own group's warm items than to the other group's."""

    def cos(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    centre_a, centre_b = embeddings[:18].mean(axis=0), embeddings[20:38].mean(axis=0)
    own_a = np.mean([cos(embeddings[i], centre_a) - cos(embeddings[i], centre_b) for i in (18, 19)])
    own_b = np.mean([cos(embeddings[i], centre_b) - cos(embeddings[i], centre_a) for i in (38, 39)])
    return float(own_a + own_b)


@pytest.mark.parametrize(("model_name", "floor"), [("bpr", 0.3), ("lightgcn", -1.0)])
def test_cold_items_stay_with_their_text_neighbours(model_name: str, floor: float) -> None:
    """Cold items get no positive updates, so where they start is where they stay: with text vectors, next to the
    warm items of their text group (measured: BPR +0.6 vs -0.2 from noise; LightGCN -0.1 vs -0.4, its final
    embeddings being propagated over neighbours that cold items lack)."""
    train, vectors = _two_taste_groups()
    text = _cold_item_alignment(
        create_model(model_name, seed=0, **FAST).fit(train, item_init=vectors).item_embeddings()
    )
    noise = _cold_item_alignment(create_model(model_name, seed=0, **FAST).fit(train).item_embeddings())
    assert text > noise + 0.2
    assert text > floor


def test_no_item_init_and_all_missing_give_the_same_fit() -> None:
    train, _ = _two_taste_groups()
    plain = create_model("bpr", seed=4, **FAST).fit(train)
    missing = create_model("bpr", seed=4, **FAST).fit(train, item_init=np.full((40, 8), np.nan))
    np.testing.assert_array_equal(plain.item_embeddings(), missing.item_embeddings())


def test_misshaped_item_init_is_refused() -> None:
    train, vectors = _two_taste_groups()
    with pytest.raises(RecaugInputError, match="item_init"):
        create_model("bpr", **FAST).fit(train, item_init=vectors[:-1])
