"""Shared pieces of the augmenters: inner validation split, the train-only base model, plausibility, ranking."""

from __future__ import annotations

import numpy as np

from recaug.augment.base import Target
from recaug.augment.graph.train_model import clear_cache, fit_train_model
from recaug.augment.inner_split import inner_split
from recaug.augment.ranking import plausibility, top_unseen_rows
from recaug.core.progress import no_progress
from recaug.data.schema import ITEM, USER


def test_inner_split_holds_out_training_edges_only(ml100k_train) -> None:
    inner, valid = inner_split(ml100k_train, fraction=0.1, seed=3)
    train = ml100k_train.matrix
    assert (inner.matrix.multiply(valid)).nnz == 0, "disjoint"
    assert ((inner.matrix + valid) != train).nnz == 0, "together exactly the training split"
    assert 0.08 < valid.nnz / train.nnz < 0.12
    assert inner.user_degree().min() >= 1
    again, valid_again = inner_split(ml100k_train, fraction=0.1, seed=3)
    assert (valid_again != valid).nnz == 0 and len(again.interactions) == inner.matrix.nnz


def test_train_model_is_deterministic_and_memoised(ml100k_slice) -> None:
    clear_cache()
    first = fit_train_model(ml100k_slice.train, seed=5)
    assert fit_train_model(ml100k_slice.train, seed=5) is first
    clear_cache()
    second = fit_train_model(ml100k_slice.train, seed=5)
    assert second is not first
    np.testing.assert_array_equal(first.user_embeddings(), second.user_embeddings())


def test_plausibility_is_the_mean_pairwise_win_probability() -> None:
    scores = np.array([[3.0, 1.0, 2.0], [0.0, 0.0, -np.inf]])
    value = plausibility(scores, np.array([[0], [1]]))
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    np.testing.assert_allclose(value[0, 0], np.mean([sigmoid(0), sigmoid(2), sigmoid(1)]), rtol=1e-6)
    np.testing.assert_allclose(value[1, 0], np.mean([0.5, 0.5, 1.0]), rtol=1e-6)


def test_top_unseen_rows_interleaves_users_and_skips_seen_items(ml100k_slice) -> None:
    train = ml100k_slice.train
    users = np.array([0, 1, 2])
    target = Target(users, np.arange(train.n_items), "three users")
    scores = np.tile(np.arange(train.n_items, dtype=np.float32)[::-1], (train.n_users, 1))  # item 0 best
    rows = top_unseen_rows(train, target, lambda u: scores[u], 9, progress=no_progress, message="")
    user_idx = train.user_ids.get_indexer(rows[USER])
    assert list(user_idx[:6]) == [0, 1, 2, 0, 1, 2], "rank by rank across users"
    for u in users:
        mine = train.item_ids.get_indexer(rows[ITEM][user_idx == u])
        unseen = np.setdiff1d(np.arange(train.n_items), train.history(u))
        np.testing.assert_array_equal(mine, unseen[: len(mine)])
