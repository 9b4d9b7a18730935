"""The shared contract, run over EVERY registered augmenter on a real slice of ML-100k.

Per augmenter: default construction; ``augment`` before ``fit`` raises; output schema and rules (items exist,
never already in the user's training history, confidence in [0, 1], virtual users marked); same seed gives
identical output; the input TrainingData is not mutated; no valid/test leakage (a Dataset whose valid/test
pairs differ gives identical output); ``denoise`` works on every augmenter.

Augmenters that are slow at their defaults get a cheap configuration from ``FAST_PARAMS`` (default ``{}``);
adding an augmenter to the registry adds it here automatically.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from recaug.augment import AUGMENTERS, create_augmenter
from recaug.augment.base import SYNTHETIC_COLUMNS, AugmentResult, NotFittedError
from recaug.data.dataset import VIRTUAL_PREFIX, TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, ORIGIN, USER

BUDGET = 60
FAST_PARAMS: dict[str, dict[str, Any]] = {
    "cfgan": {"epochs": 3},
    "embedding-gan": {"epochs": 5},
    "rl-gan": {"epochs": 2},
    "ensemble": {"members": ["itemknn-expansion", "popularity", "random"], "mode": "vote"},
    "llm-interactions": {"max_users": 2},
    "llm-profiles": {"max_users": 2, "max_new_tokens": 16},
    "llm-item-text": {"max_items": 2, "max_new_tokens": 16},
    "llm-cold-items": {"max_items": 2, "users_per_item": 2, "max_users": 10, "min_yes": 0.0},
}
NAMES = AUGMENTERS.names()
_RUNS: dict[tuple[str, str, float], tuple[AugmentResult, bool]] = {}


def run(name: str, train: TrainingData, which: str, denoise: float = 0.0) -> tuple[AugmentResult, bool]:
    """Fit a fresh augmenter and augment once (memoised per test session); also report whether it mutated
    ``train``."""
    key = (name, which, denoise)
    if key not in _RUNS:
        before_rows, before_matrix = train.interactions.copy(), train.matrix.copy()
        params = {**FAST_PARAMS.get(name, {}), **({"denoise": denoise} if denoise else {})}
        augmenter = create_augmenter(name, target="all", **params).fit(train)
        result = augmenter.augment(BUDGET)
        mutated = not (train.interactions.equals(before_rows) and (train.matrix != before_matrix).nnz == 0)
        _RUNS[key] = (result, mutated)
    return _RUNS[key]


def check_rows(name: str, result: AugmentResult, train: TrainingData) -> None:
    rows = result.rows
    assert list(rows.columns[: len(SYNTHETIC_COLUMNS)]) == SYNTHETIC_COLUMNS
    assert len(rows) <= BUDGET
    assert (rows[ORIGIN] == name).all()
    conf = rows[CONFIDENCE].to_numpy(dtype=float)
    assert np.isfinite(conf).all() and (conf >= 0).all() and (conf <= 1).all()
    item_idx = train.item_ids.get_indexer(rows[ITEM])
    assert (item_idx >= 0).all(), "every synthetic item is in the catalog"
    user_idx = train.user_ids.get_indexer(rows[USER])
    assert rows[USER][user_idx < 0].str.startswith(VIRTUAL_PREFIX).all(), "unknown users must be virtual"
    real = user_idx >= 0
    if real.any():
        seen = np.asarray(train.matrix[user_idx[real], item_idx[real]]).ravel()
        assert (seen == 0).all(), "nothing already in the user's training history"
    assert not rows.duplicated([USER, ITEM]).any()


@pytest.mark.parametrize("name", NAMES)
def test_default_construction_and_params_round_trip(name: str) -> None:
    cls = AUGMENTERS.get(name)
    augmenter = cls()
    params = augmenter.get_params()
    assert cls.name == name and cls.description and cls.family
    assert params["seed"] == 0 and params["denoise"] == 0.0
    assert create_augmenter(name, **params).get_params() == params


@pytest.mark.parametrize("name", NAMES)
def test_augment_before_fit_raises(name: str) -> None:
    with pytest.raises(NotFittedError):
        create_augmenter(name, **FAST_PARAMS.get(name, {})).augment(10)


@pytest.mark.parametrize("name", NAMES)
def test_output_obeys_the_contract(name: str, ml100k_slice) -> None:
    result, _ = run(name, ml100k_slice.train, "A")
    check_rows(name, result, ml100k_slice.train)
    removed = result.removed if result.removed is not None else pd.DataFrame(columns=[USER, ITEM])
    assert len(result.rows) + len(removed) > 0, "an augmenter must add (or, for edge-dropout, remove) something"
    # Negative rows (polarity -1, e.g. llm-interactions) are reported apart from the budgeted positives.
    assert result.info["kept"] + result.info.get("negatives", 0) == len(result.rows) and result.params["seed"] == 0
    if len(removed):
        users = ml100k_slice.train.user_ids.get_indexer(removed[USER])
        items = ml100k_slice.train.item_ids.get_indexer(removed[ITEM])
        assert (np.asarray(ml100k_slice.train.matrix[users, items]).ravel() == 1).all(), "removes training edges"


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_gives_identical_output(name: str, ml100k_slice) -> None:
    first, _ = run(name, ml100k_slice.train, "A")
    second, _ = run(name, ml100k_slice.train, "A-again")
    pd.testing.assert_frame_equal(first.rows, second.rows)
    if first.removed is not None:
        pd.testing.assert_frame_equal(first.removed, second.removed)


@pytest.mark.parametrize("name", NAMES)
def test_input_is_not_mutated(name: str, ml100k_slice) -> None:
    _, mutated = run(name, ml100k_slice.train, "A")
    assert not mutated
    assert ml100k_slice.train.interactions.equals(ml100k_slice.pristine_interactions)


@pytest.mark.parametrize("name", NAMES)
def test_no_validation_or_test_leakage(name: str, ml100k_slice) -> None:
    """Same training rows, different valid/test pairs in the Dataset -> identical synthetic rows."""
    original, _ = run(name, ml100k_slice.train, "A")
    twin, _ = run(name, ml100k_slice.twin_train, "twin")
    pd.testing.assert_frame_equal(original.rows, twin.rows)


@pytest.mark.parametrize("name", NAMES)
def test_denoise_is_available_on_every_augmenter(name: str, ml100k_slice) -> None:
    result, _ = run(name, ml100k_slice.train, "A", denoise=0.5)
    assert result.params["denoise"] == 0.5
    check_rows(name, result, ml100k_slice.train)
    scored = result.info["denoise_scored"]
    assert result.info["denoise_dropped"] == round(0.5 * scored)
    assert result.info["kept"] == min(BUDGET, scored - result.info["denoise_dropped"])
