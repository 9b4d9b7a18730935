"""Augmenters never learn of an item from validation or test: items with no training interaction are hidden,
except the new items a cold-items protocol declares (their text is known by design)."""

from __future__ import annotations

import numpy as np

from recaug.augment import create_augmenter
from recaug.data.dataset import Dataset, TrainingData
from recaug.data.splits import Split, make_split


def test_items_known_only_from_valid_or_test_are_invisible(ml100k: Dataset, ml100k_split: Split) -> None:
    training: TrainingData = ml100k.training_data(ml100k_split.train)
    unseen = ml100k.item_ids[np.asarray(training.matrix.getnnz(axis=0)) == 0]
    assert 10 < len(unseen) < 100  # 34 on seed 0: every one of them is a validation/test item
    assert not training.item_visible()[ml100k.item_ids.get_indexer(unseen)].any()
    for method in ("random", "popularity"):
        rows = create_augmenter(method, seed=0).fit(training).augment(2000, target="cold-items").rows
        assert len(rows) == 2000 and not rows["item_id"].isin(unseen).any(), method


def test_declared_cold_items_stay_visible_under_the_cold_items_protocol(ml100k: Dataset) -> None:
    split = make_split(ml100k.interactions, "cold-items", 0)
    training = ml100k.training_data(split.train, cold_items=split.cold_items)
    cold = ml100k.item_ids.get_indexer(split.cold_items.astype(str))
    assert training.item_visible()[cold].all()
    rows = create_augmenter("random", seed=0).fit(training).augment(500, target="cold-items").rows
    assert rows["item_id"].isin(split.cold_items).mean() > 0.5  # the cold items are what the target aims at
