"""GAN augmenters on the full real ML-100k training split, with short training (a few epochs)."""

from __future__ import annotations

import numpy as np

from recaug.augment import create_augmenter
from recaug.augment.base import resolve_target
from recaug.augment.gan.embedding_gan import nearest_rows
from recaug.data.dataset import VIRTUAL_PREFIX
from recaug.data.schema import ITEM, USER


def test_cfgan_fills_in_rather_than_copies_and_reports_progress(ml100k_train, hits, random_hit_rate) -> None:
    progress: list[tuple[float, str]] = []
    augmenter = create_augmenter("cfgan", epochs=5).fit(ml100k_train, progress=lambda f, m: progress.append((f, m)))
    result = augmenter.augment(2000)
    assert 0.0 < result.info["copy_rate"] < 1.0, "the generator must not only reproduce the purchase vector"
    fractions = [f for f, _ in progress]
    assert len(fractions) == 5 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "CFGAN epoch 5/5" in progress[-1][1]
    assert result.artifacts["user_embeddings"].shape == (ml100k_train.n_users, 256)
    assert result.artifacts["item_embeddings"].shape == (ml100k_train.n_items, 256)
    # Even 5 epochs find real held-out edges far above chance (random: ~0.3%; CFGAN: ~2%).
    assert hits(result.rows) > 3 * random_hit_rate


def test_embedding_gan_samples_light_user_like_virtual_users(ml100k_train) -> None:
    augmenter = create_augmenter("embedding-gan", epochs=20).fit(ml100k_train)
    result = augmenter.augment(1000)
    rows = result.rows
    assert rows[USER].str.startswith(VIRTUAL_PREFIX).all() and len(rows) == 1000
    light = resolve_target(ml100k_train, "light-users").users
    k = int(np.median(ml100k_train.user_degree()[light]))
    sizes = rows.groupby(USER, sort=False).size().to_numpy()
    assert (sizes[:-1] == k).all() and 1 <= sizes[-1] <= k  # only the last virtual user may be cut by the budget
    vectors = result.artifacts["synthetic_user_embeddings"]
    assert len(vectors) == len(sizes) == len(result.artifacts["synthetic_user_ids"])
    real = result.artifacts["user_embeddings"]
    nearest, _ = nearest_rows(vectors, real)
    assert np.isin(nearest, light).all(), "kept synthetic users resemble light users"
    # The first virtual user's items are exactly the top-k items of its vector.
    items = result.artifacts["item_embeddings"]
    top = np.argsort(-(vectors[0] @ items.T), kind="stable")[:k]
    first = rows[rows[USER] == result.artifacts["synthetic_user_ids"][0]]
    assert set(ml100k_train.item_ids.get_indexer(first[ITEM])) == set(top)
    assert 0.2 < result.info["nn_distance_ratio"] < 5.0


def test_rl_gan_policy_improves_its_reward(ml100k_train, hits, random_hit_rate) -> None:
    augmenter = create_augmenter("rl-gan", reward="recommender", epochs=5).fit(ml100k_train)
    result = augmenter.augment(2000)
    rewards = result.info["mean_reward"]
    assert rewards["last_epoch"] > rewards["first_epoch"], "policy gradient raises the frozen recommender's reward"
    assert (result.rows["confidence"] >= 0.5).all()
    assert hits(result.rows) > 3 * random_hit_rate
    assert result.artifacts["user_embeddings"].shape == (ml100k_train.n_users, 64)


def test_rl_gan_with_discriminator_reward(ml100k_train, hits, random_hit_rate) -> None:
    result = create_augmenter("rl-gan", epochs=3).fit(ml100k_train).augment(2000)
    assert len(result.rows) == 2000
    assert hits(result.rows) > 3 * random_hit_rate
