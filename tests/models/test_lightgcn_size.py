"""LightGCN's size limit: refused up front (check_size, in fit and before augmenting), with what to use instead."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.experiment.config import ExperimentConfig
from recaug.models import create_model
from recaug.models.lightgcn import MAX_INTERACTIONS


def test_above_the_limit_is_refused_with_what_to_use_instead() -> None:
    model = create_model("lightgcn")
    model.check_size(140_000, 30_000, n_interactions=MAX_INTERACTIONS)  # at the limit: accepted
    with pytest.raises(RecaugInputError, match="20,000,000 is above its limit of 2,000,000") as refused:
        model.check_size(140_000, 30_000, n_interactions=20_000_000)
    assert "use bpr or als" in str(refused.value)
    model.check_size(140_000, 30_000)  # interactions unknown: nothing to judge
    create_model("lightgcn", max_interactions=0).check_size(140_000, 30_000, n_interactions=20_000_000)


def test_fit_and_the_tuned_model_apply_the_limit() -> None:
    train = sp.csr_matrix(np.eye(6, dtype=np.float32))
    with pytest.raises(RecaugInputError, match="6 is above its limit of 5"):
        create_model("lightgcn", max_interactions=5).fit(train)
    with pytest.raises(RecaugInputError, match="LightGCN propagates the whole user-item graph"):
        create_model("lightgcn-tuned").check_size(140_000, 30_000, n_interactions=20_000_000)
    create_model("bpr-tuned").check_size(140_000, 30_000, n_interactions=2_000_000)  # at the grid's limit
    with pytest.raises(RecaugInputError, match="bpr-tuned fits bpr 6 times") as refused:
        create_model("bpr-tuned").check_size(140_000, 30_000, n_interactions=20_000_000)
    assert "use the untuned 'bpr'" in str(refused.value)
    create_model("bpr-tuned", max_interactions=0).check_size(140_000, 30_000, n_interactions=20_000_000)


def test_an_experiment_is_refused_before_augmenting(planted: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    import recaug.experiment.run as experiment

    def no_augmenting(*args: object, **kwargs: object) -> None:
        raise AssertionError("an augmenter ran before the size check")

    monkeypatch.setattr(experiment, "create_augmenter", no_augmenting)
    config = ExperimentConfig(
        augmenters=["random"],
        models=["pop", "lightgcn", "bpr-tuned"],
        model_params={"lightgcn": {"max_interactions": 100}, "bpr-tuned": {"max_interactions": 100}},
    )
    with pytest.raises(RecaugInputError, match=f"{len(planted.interactions):,} is above its limit of 100") as refused:
        experiment.run_experiment(planted, config)
    # Every refusal at once, each with its model's name: one edit of the model list fixes the run.
    message = str(refused.value)
    assert message.startswith("2 of the chosen models cannot fit data of this size")
    assert "lightgcn: LightGCN propagates" in message and "bpr-tuned: bpr-tuned fits bpr 6 times" in message
