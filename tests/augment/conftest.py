"""Fixtures for the augmenter tests: a small real slice of ML-100k with its leakage twin (from the package's
conformance kit, :mod:`recaug.testing.data`), and hit rates of proposals against the full ML-100k held-out edges.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recaug.data.dataset import TrainingData
from recaug.data.schema import ITEM, USER
from recaug.data.splits import Split
from recaug.testing.data import SliceData, default_slice


@pytest.fixture(scope="session")
def ml100k_slice() -> SliceData:
    """The first 150 ML-100k users split random-811, plus a twin whose valid/test pairs differ."""
    return default_slice()


@pytest.fixture(scope="session")
def heldout(ml100k, ml100k_split: Split):
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
