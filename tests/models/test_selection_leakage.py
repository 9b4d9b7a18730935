"""Changing the test data must not change anything a model chose: epochs, hyper-parameters, scores.

Leave-last-out on real ML-100k users: two datasets that differ only in each user's last (test) interaction give
identical train and validation splits. Every model that selects on validation is run through the whole pipeline
on both; everything it learned or chose must be identical, while the test metrics do differ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, run_experiment

FAST = {
    "bpr": {"max_epochs": 6, "eval_every": 2},
    "lightgcn": {"max_epochs": 6, "eval_every": 2, "lr": 0.01},
    "bpr-tuned": {"grid": {"lr": (0.001, 0.01), "max_epochs": (6,), "eval_every": (2,)}},
}
CHOICES = {
    "bpr": ("best_epoch_", "history_"),
    "lightgcn": ("best_epoch_", "history_"),
    "ease": ("reg_", "valid_ndcg_"),
    "als": ("best_iteration_", "history_"),
    "content": ("scale_", "valid_ndcg_"),
    "itemknn-tuned": ("chosen_", "valid_ndcg_"),
    "bpr-tuned": ("chosen_", "valid_ndcg_", "best_epoch_"),
}


def two_datasets(ml100k: Dataset, n_users: int = 150) -> tuple[Dataset, Dataset]:
    frame = ml100k.interactions[["user_id", "item_id", "rating", "timestamp"]]
    frame = frame[frame["user_id"].isin(ml100k.user_ids[:n_users])].copy()
    last = frame.groupby("user_id")["timestamp"].idxmax()
    frame.loc[last, "timestamp"] = frame.loc[last, "timestamp"] + 1  # a unique latest row per user
    counts = frame["item_id"].value_counts()
    changed = frame.copy()
    rng = np.random.default_rng(0)
    catalog = counts.index.to_numpy()
    for user, row in last.items():
        if counts[frame.at[row, "item_id"]] < 2:
            continue  # keep every item in the catalog, so both datasets share one index map
        seen = set(frame.loc[frame["user_id"] == user, "item_id"])
        changed.at[row, "item_id"] = rng.choice([i for i in catalog if i not in seen])
    items = ml100k.items
    return Dataset.from_frames(frame, items, name="a"), Dataset.from_frames(changed, items, name="b")


def test_test_data_cannot_change_what_models_choose(ml100k: Dataset) -> None:
    first, second = two_datasets(ml100k)
    assert first.user_ids.equals(second.user_ids) and first.item_ids.equals(second.item_ids)
    config = ExperimentConfig(
        protocol="leave-last-out",
        augmenters=[],
        models=list(CHOICES),
        model_params=FAST,
        seeds=[0],
        metrics=["ndcg", "recall"],
        ks=[10],
    )
    a = run_experiment(first, config, keep_models=True)
    b = run_experiment(second, config, keep_models=True)
    assert (a.split["part"] == "train").sum() == (b.split["part"] == "train").sum()
    pd.testing.assert_frame_equal(a.split[a.split["part"] != "test"], b.split[b.split["part"] != "test"])
    users = np.arange(first.n_users)
    for name, attributes in CHOICES.items():
        model_a, model_b = a.models[(name, "baseline", 0)], b.models[(name, "baseline", 0)]
        for attribute in attributes:
            assert getattr(model_a, attribute) == getattr(model_b, attribute), (name, attribute)
        assert model_a.get_params() == model_b.get_params()
        np.testing.assert_array_equal(model_a.score(users), model_b.score(users))
    # The test really differed: the same models score differently on it.
    merged = a.results.merge(b.results, on=["model", "variant", "seed", "slice", "metric", "k"])
    assert (merged["value_x"] != merged["value_y"]).any()
