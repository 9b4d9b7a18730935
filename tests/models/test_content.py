"""The content model: cold items are scored from their text, with the real packaged encoder."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.data.splits import make_split
from recaug.evaluate.protocol import evaluate_model, mean_metric
from recaug.models import create_model
from recaug.models.content import ridge_map


def cold_restricted(test: sp.csr_matrix, cold: np.ndarray) -> sp.csr_matrix:
    out = sp.csr_matrix(test.multiply(cold[None, :].astype(np.float32)))
    out.eliminate_zeros()
    return out


def test_ridge_map_is_the_closed_form() -> None:
    rng = np.random.default_rng(0)
    inputs, targets = rng.normal(size=(50, 4)), rng.normal(size=(50, 3))
    expected = np.linalg.inv(inputs.T @ inputs + 2.0 * np.eye(4)) @ inputs.T @ targets
    np.testing.assert_allclose(ridge_map(inputs, targets, 2.0), expected, rtol=1e-8)


def test_needs_item_texts(planted: Dataset) -> None:
    train = planted.matrix(planted.interactions)
    with pytest.raises(RecaugInputError, match="one text per item"):
        create_model("content").fit(train)
    with pytest.raises(RecaugInputError, match="item_source"):
        create_model("content", item_source="nope").set_item_texts(planted.items["text"]).fit(train)


def test_cold_items_are_ranked_by_their_text(planted: Dataset) -> None:
    """Planted texts say which group an item belongs to; held-out items must go to users of that group."""
    split = make_split(planted.interactions, "cold-items", 0, fraction=0.2)
    train, valid = planted.matrix(split.train), planted.matrix(split.valid)
    model = create_model("content", factors=8).set_item_texts(planted.items["text"]).fit(train, valid)
    cold = np.flatnonzero(~model.warm_)
    assert set(planted.item_ids[cold]) == set(split.cold_items)
    scores = model.score(np.arange(planted.n_users))
    user_group = np.array([int(u[1:]) % 3 for u in planted.user_ids])
    item_group = np.array([int(i[1:]) // 13 for i in planted.item_ids])[cold]
    aucs = []
    for user in range(planted.n_users):
        same = item_group == user_group[user]
        own, other = scores[user, cold[same]], scores[user, cold[~same]]
        if len(own) and len(other):
            aucs.append((own[:, None] > other[None, :]).mean())
    assert np.mean(aucs) > 0.9
    # A what-if item typed with a cold item's text lands on that item's factors.
    np.testing.assert_allclose(
        model.map_texts([planted.items["text"].iloc[cold[0]]])[0],
        model.item_embeddings()[cold[0]],
        rtol=1e-4,
        atol=1e-5,
    )
    assert model.score_new_items(np.arange(4), ["group 1 item number 99"]).shape == (4, 1)


def test_recommends_held_out_items_that_pop_cannot(ml100k: Dataset) -> None:
    split = make_split(ml100k.interactions, "cold-items", 0)
    train, valid, test = (ml100k.matrix(p) for p in (split.train, split.valid, split.test))
    cold = np.asarray(train.sum(axis=0)).ravel() == 0
    cold_test = cold_restricted(test, cold)
    model = create_model("content").set_item_texts(ml100k.items["text"]).fit(train, valid)
    assert model.scale_ in model.scale_grid and model.valid_ndcg_[model.scale_] == max(model.valid_ndcg_.values())
    content_cold = mean_metric(model, cold_test, train + valid, "recall", 10)
    pop_cold = mean_metric(create_model("pop").fit(train), cold_test, train + valid, "recall", 10)
    assert pop_cold == 0.0 and content_cold > 0.05
    # Overall it stays a real recommender: far above popularity on all test items.
    overall = evaluate_model(model, test, train + valid, ks=(10,), metrics=("ndcg",)).values[("ndcg", 10)].mean()
    pop = mean_metric(create_model("pop").fit(train), test, train + valid, "ndcg", 10)
    assert overall > pop + 0.05
