"""Fixtures for the augmenter tests: a small real slice of ML-100k, and a twin whose held-out parts differ.

The slice keeps the first 150 users (all their real interactions), so every augmenter, GANs included, fits in
seconds. The twin dataset has the same users, items and training rows, but its validation/test pairs are
shuffled: an augmenter that reads only the training split must give identical output on both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from recaug.data.dataset import Dataset, TrainingData
from recaug.data.schema import ITEM, RATING, TIMESTAMP, USER
from recaug.data.splits import Split, make_split

BASE_COLUMNS = [USER, ITEM, RATING, TIMESTAMP]


@dataclass(frozen=True)
class SliceData:
    dataset: Dataset
    split: Split
    train: TrainingData
    twin_train: TrainingData  # same training rows, built from a Dataset whose valid/test pairs differ
    pristine_interactions: pd.DataFrame
    pristine_matrix: object


def pairs(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([frame[USER].astype(str), frame[ITEM].astype(str)])


def twin_with_shuffled_heldout(dataset: Dataset, split: Split, seed: int = 1) -> tuple[Dataset, pd.DataFrame]:
    """A Dataset with the same training rows whose valid/test rows pair users with other (shuffled) items."""
    heldout = pd.concat([split.valid, split.test])[BASE_COLUMNS].reset_index(drop=True)
    heldout[ITEM] = np.random.default_rng(seed).permutation(heldout[ITEM].to_numpy())
    clash = pairs(heldout).isin(pairs(split.train)) | pairs(heldout).duplicated()
    twin = Dataset.from_frames(
        pd.concat([split.train[BASE_COLUMNS], heldout[~clash]]), dataset.items, name="ml-100k-twin"
    )
    twin_train = twin.interactions[pairs(twin.interactions).isin(pairs(split.train))]
    return twin, twin_train


@pytest.fixture(scope="session")
def ml100k_slice(ml100k: Dataset) -> SliceData:
    users = ml100k.user_ids[:150]
    rows = ml100k.interactions[ml100k.interactions[USER].isin(users)][BASE_COLUMNS]
    dataset = Dataset.from_frames(rows, ml100k.items, name="ml-100k-slice")
    split = make_split(dataset.interactions, "random-811", 0)
    train = dataset.training_data(split.train)
    twin, twin_rows = twin_with_shuffled_heldout(dataset, split)
    # Preconditions of the leakage test: identical id maps and training matrix, different held-out pairs.
    assert twin.user_ids.equals(dataset.user_ids) and twin.item_ids.equals(dataset.item_ids)
    twin_train = twin.training_data(twin_rows)
    assert (twin_train.matrix != train.matrix).nnz == 0
    assert not pairs(twin.interactions).isin(pairs(dataset.interactions)).all()
    return SliceData(dataset, split, train, twin_train, train.interactions.copy(), train.matrix.copy())


@pytest.fixture(scope="session")
def heldout(ml100k: Dataset, ml100k_split: Split):
    """Valid + test edges of the full ML-100k split (only for judging augmenters' proposals, never fed to them)."""
    return (ml100k.matrix(ml100k_split.valid) + ml100k.matrix(ml100k_split.test)).tocsr()


def hit_rate(rows: pd.DataFrame, train: TrainingData, heldout) -> float:
    """Share of the real-user synthetic edges that are real held-out edges."""
    users = train.user_ids.get_indexer(rows[USER])
    items = train.item_ids.get_indexer(rows[ITEM])
    real = users >= 0
    return float(np.asarray(heldout[users[real], items[real]]).ravel().mean()) if real.any() else 0.0


@pytest.fixture(scope="session")
def random_hit_rate(ml100k_train: TrainingData, heldout) -> float:
    """The chance level: hit rate of ``random`` proposals for light users at a 2,000 budget."""
    from recaug.augment import create_augmenter

    rows = create_augmenter("random").fit(ml100k_train).augment(2000).rows
    return hit_rate(rows, ml100k_train, heldout)


@pytest.fixture(scope="session")
def hits(ml100k_train: TrainingData, heldout):
    """``hits(rows)``: the held-out hit rate of synthetic rows proposed on the full ML-100k training split."""
    return lambda rows: hit_rate(rows, ml100k_train, heldout)
