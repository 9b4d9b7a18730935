"""Heuristic, synthesis and graph augmenters on the full real ML-100k training split."""

from __future__ import annotations

import numpy as np
import pytest

from recaug.augment import create_augmenter
from recaug.augment.base import resolve_target
from recaug.data.dataset import VIRTUAL_PREFIX
from recaug.data.schema import CONFIDENCE, ITEM, USER


def indices(train, rows):
    return train.user_ids.get_indexer(rows[USER]), train.item_ids.get_indexer(rows[ITEM])


def test_popularity_proposes_popular_items(ml100k_train) -> None:
    popularity = ml100k_train.item_popularity()
    rows = create_augmenter("popularity").fit(ml100k_train).augment(2000).rows
    baseline = create_augmenter("random").fit(ml100k_train).augment(2000).rows
    _, items = indices(ml100k_train, rows)
    _, random_items = indices(ml100k_train, baseline)
    assert popularity[items].mean() > 2 * popularity[random_items].mean()
    np.testing.assert_allclose(rows[CONFIDENCE], popularity[items] / popularity.max())


def test_itemknn_expansion_proposes_co_occurrence_neighbours(ml100k_train, hits, random_hit_rate) -> None:
    rows = create_augmenter("itemknn-expansion").fit(ml100k_train).augment(2000).rows
    users, items = indices(ml100k_train, rows)
    matrix = ml100k_train.matrix
    co_occurrence = (matrix.T @ matrix).tocsc()
    # For every proposed (u, i): some item in u's training history was co-consumed with i.
    shared = np.asarray(matrix[users].multiply(co_occurrence[:, items].T).sum(axis=1)).ravel()
    assert (shared > 0).all()
    assert hits(rows) > 5 * random_hit_rate


def test_edge_dropout_removes_the_requested_fraction(ml100k_train) -> None:
    result = create_augmenter("edge-dropout", target="all").fit(ml100k_train).augment(0.2)
    removed = result.removed
    n_train = len(ml100k_train.interactions)
    assert len(result.rows) == 0 and len(removed) == round(0.2 * n_train) == result.info["removed"]
    assert not removed.duplicated().any()
    users, items = indices(ml100k_train, removed)
    assert (np.asarray(ml100k_train.matrix[users, items]).ravel() == 1).all()
    remaining = ml100k_train.user_degree() - np.bincount(users, minlength=ml100k_train.n_users)
    assert remaining.min() >= 1, "every user keeps at least min_keep edges"


def test_edge_dropout_only_touches_target_users_and_caps_at_what_can_go(ml100k_train) -> None:
    light = resolve_target(ml100k_train, "light-users").users
    result = create_augmenter("edge-dropout").fit(ml100k_train).augment(0.5)
    users, _ = indices(ml100k_train, result.removed)
    assert np.isin(users, light).all()
    assert len(users) == int((ml100k_train.user_degree()[light] - 1).sum()) < result.info["budget"]


def test_mixup_virtual_users_come_from_two_real_users(ml100k_train) -> None:
    rows = create_augmenter("mixup").fit(ml100k_train).augment(1500).rows
    assert rows[USER].str.startswith(VIRTUAL_PREFIX).all()
    matrix = ml100k_train.matrix.toarray() > 0
    light = resolve_target(ml100k_train, "light-users").users
    for _, group in list(rows.groupby(USER, sort=False))[:15]:
        items = ml100k_train.item_ids.get_indexer(group[ITEM])
        shared = items[group[CONFIDENCE].to_numpy() == 1.0]
        # Some light user u (the anchor) and some user v together hold every item; items with value 1 are in both.
        found = False
        for u in light:
            rest = items[~matrix[u, items]]
            partners = matrix[:, rest].all(axis=1) & matrix[:, shared].all(axis=1) & matrix[u, shared].all()
            partners[u] = False
            if partners.any():
                found = True
                break
        assert found


def test_aggregation_keeps_items_shared_by_the_cluster(ml100k_train) -> None:
    augmenter = create_augmenter("aggregation", cluster_size=10, threshold=0.3).fit(ml100k_train)
    result = augmenter.augment(3000)
    rows = result.rows
    assert rows[USER].str.startswith(VIRTUAL_PREFIX).all()
    conf = rows[CONFIDENCE].to_numpy()
    assert (conf >= 0.3).all()
    np.testing.assert_allclose(conf * 10, np.round(conf * 10), atol=1e-6)  # shares of a 10-user cluster
    assert rows[USER].nunique() <= len(resolve_target(ml100k_train, "light-users").users)


def test_link_prediction_adds_confident_edges(ml100k_train, hits, random_hit_rate) -> None:
    result = create_augmenter("link-prediction", threshold=0.95).fit(ml100k_train).augment(2000)
    assert (result.rows[CONFIDENCE] >= 0.95).all() and len(result.rows) == 2000
    assert hits(result.rows) > 5 * random_hit_rate
    assert result.artifacts["user_embeddings"].shape == (ml100k_train.n_users, 64)


def test_link_prediction_with_lightgcn(ml100k_train, hits, random_hit_rate) -> None:
    import recaug.models.lightgcn  # noqa: F401  (registers the model if the package has not yet)

    augmenter = create_augmenter("link-prediction", model="lightgcn", model_params={"max_epochs": 3})
    result = augmenter.fit(ml100k_train).augment(2000)
    assert len(result.rows) > 0 and hits(result.rows) > 3 * random_hit_rate


def test_unknown_options_fail_loudly(ml100k_train) -> None:
    from recaug.core.errors import RecaugInputError

    with pytest.raises(RecaugInputError):
        create_augmenter("rl-gan", reward="vibes").fit(ml100k_train)
    with pytest.raises(RecaugInputError):
        create_augmenter("embedding-gan", source="audio").fit(ml100k_train)
