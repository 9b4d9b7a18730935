"""The augmenter conformance suite: subclass it with ``augmenter_name`` (and ``params``) to run every check.

Checked on a real slice of ML-100k (:func:`recaug.testing.data.default_slice`): default construction and the
``cls(**aug.get_params())`` / ``set_params`` round trips, the shared options included; ``augment`` before ``fit``
raises; the output obeys the rules (schema, items exist, nothing already in the user's training history,
confidence in [0, 1], virtual users marked); the same seed gives identical output; the input is not mutated; no
validation/test leakage (a Dataset whose valid/test pairs differ gives identical output); ``denoise`` works.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from recaug.augment import AUGMENTERS, create_augmenter
from recaug.augment.base import BASE_OPTIONS, SYNTHETIC_COLUMNS, Augmenter, AugmentResult, NotFittedError
from recaug.data.dataset import VIRTUAL_PREFIX, TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, ORIGIN, USER
from recaug.testing.data import SliceData, default_slice

# Values different from every default, to show the shared options survive a round trip.
OPTION_VALUES: dict[str, Any] = {"denoise": 0.25, "max_per_user": 4, "max_per_item": 7}


class AugmentRuns:
    """Fits a fresh augmenter and augments once per (training view, label, denoise), memoised for one class."""

    def __init__(self, name: str, params: dict[str, Any], budget: int) -> None:
        self.name, self.params, self.budget = name, params, budget
        self._runs: dict[tuple[int, str, float], tuple[AugmentResult, bool]] = {}

    def get(self, train: TrainingData, label: str, denoise: float = 0.0) -> tuple[AugmentResult, bool]:
        """(result, whether ``train`` was mutated); ``label`` tells apart repeated runs on the same data."""
        key = (id(train), label, denoise)
        if key not in self._runs:
            before_rows, before_matrix = train.interactions.copy(), train.matrix.copy()
            params = {**self.params, **({"denoise": denoise} if denoise else {})}
            result = create_augmenter(self.name, target="all", **params).fit(train).augment(self.budget)
            mutated = not (train.interactions.equals(before_rows) and (train.matrix != before_matrix).nnz == 0)
            self._runs[key] = (result, mutated)
        return self._runs[key]


def check_rows(name: str, result: AugmentResult, train: TrainingData, budget: int) -> None:
    """Assert the rules every augmenter's synthetic rows obey."""
    rows = result.rows
    assert list(rows.columns[: len(SYNTHETIC_COLUMNS)]) == SYNTHETIC_COLUMNS
    assert len(rows) <= budget
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


class AugmenterConformance:
    """Every augmenter's tests subclass this; set ``augmenter_name`` and, if it is slow at its defaults,
    ``params`` (a cheap configuration)."""

    augmenter_name: ClassVar[str]
    params: ClassVar[dict[str, Any]] = {}
    budget: ClassVar[int] = 60

    @pytest.fixture(scope="class")
    def data(self) -> SliceData:
        return default_slice()

    @pytest.fixture(scope="class")
    def runs(self) -> AugmentRuns:
        return AugmentRuns(self.augmenter_name, dict(self.params), self.budget)

    @property
    def cls(self) -> type[Augmenter]:
        return AUGMENTERS.get(self.augmenter_name)

    def test_default_construction(self) -> None:
        augmenter = self.cls()
        params = augmenter.get_params(deep=False)
        assert self.cls.name == self.augmenter_name and self.cls.description and self.cls.family
        assert params["seed"] == 0 and params["denoise"] == 0.0
        assert create_augmenter(self.augmenter_name, **params).get_params(deep=False) == params

    def test_get_params_round_trips_through_the_constructor(self) -> None:
        """``cls(**aug.get_params())`` and ``sklearn.base.clone`` rebuild the augmenter, the shared options included."""
        augmenter = self.cls(**{**self.params, **OPTION_VALUES})
        params = augmenter.get_params(deep=False)
        assert {key: params[key] for key in BASE_OPTIONS} == OPTION_VALUES
        assert self.cls(**params).get_params(deep=False) == params
        assert self.cls().set_params(**params).get_params(deep=False) == params
        assert clone(augmenter).get_params(deep=False) == params

    def test_augment_before_fit_raises(self) -> None:
        with pytest.raises(NotFittedError):
            create_augmenter(self.augmenter_name, **self.params).augment(10)

    def test_output_obeys_the_contract(self, data: SliceData, runs: AugmentRuns) -> None:
        result, _ = runs.get(data.train, "A")
        check_rows(self.augmenter_name, result, data.train, self.budget)
        removed = result.removed if result.removed is not None else pd.DataFrame(columns=[USER, ITEM])
        starts = result.item_init is not None and len(result.item_init) > 0
        assert len(result.rows) + len(removed) > 0 or starts, (
            "an augmenter must add rows, remove them (edge-dropout) or give item start vectors (llm-init)"
        )
        assert starts or self.cls.adds_rows, "an augmenter that adds no rows must give item start vectors"
        # Negative rows (polarity -1, e.g. llm-interactions) are reported apart from the budgeted positives.
        assert result.info["kept"] + result.info.get("negatives", 0) == len(result.rows)
        assert result.params["seed"] == 0
        if len(removed):
            users = data.train.user_ids.get_indexer(removed[USER])
            items = data.train.item_ids.get_indexer(removed[ITEM])
            assert (np.asarray(data.train.matrix[users, items]).ravel() == 1).all(), "removes training edges"

    def test_same_seed_gives_identical_output(self, data: SliceData, runs: AugmentRuns) -> None:
        first, _ = runs.get(data.train, "A")
        second, _ = runs.get(data.train, "A-again")
        pd.testing.assert_frame_equal(first.rows, second.rows)
        if first.removed is not None:
            pd.testing.assert_frame_equal(first.removed, second.removed)
        if first.item_init is not None:
            pd.testing.assert_frame_equal(first.item_init, second.item_init)

    def test_input_is_not_mutated(self, data: SliceData, runs: AugmentRuns) -> None:
        _, mutated = runs.get(data.train, "A")
        assert not mutated
        assert data.train.interactions.equals(data.pristine_interactions)
        assert (data.train.matrix != data.pristine_matrix).nnz == 0

    def test_no_validation_or_test_leakage(self, data: SliceData, runs: AugmentRuns) -> None:
        """Same training rows, different valid/test pairs in the Dataset -> identical synthetic rows."""
        original, _ = runs.get(data.train, "A")
        twin, _ = runs.get(data.twin_train, "twin")
        pd.testing.assert_frame_equal(original.rows, twin.rows)
        if original.item_init is not None:  # start vectors only for items the training split may see
            pd.testing.assert_frame_equal(original.item_init, twin.item_init)

    def test_denoise_is_available(self, data: SliceData, runs: AugmentRuns) -> None:
        result, _ = runs.get(data.train, "A", denoise=0.5)
        assert result.params["denoise"] == 0.5
        check_rows(self.augmenter_name, result, data.train, self.budget)
        scored = result.info["denoise_scored"]
        assert result.info["denoise_dropped"] == round(0.5 * scored)
        assert result.info["kept"] == min(self.budget, scored - result.info["denoise_dropped"])
