"""Virtual users and removals inside ``run_experiment`` on the full real ML-100k (fast item-kNN models)."""

from __future__ import annotations

import numpy as np

from recaug.data.dataset import VIRTUAL_PREFIX
from recaug.experiment import BASELINE, ExperimentConfig, run_experiment


def test_virtual_users_are_trained_on_but_never_evaluated_and_removals_are_dropped(ml100k) -> None:
    config = ExperimentConfig(
        augmenters=["mixup", "edge-dropout"], budget=0.05, models=["itemknn"], seeds=[0], ks=[20], metrics=["recall"]
    )
    result = run_experiment(ml100k, config, keep_models=True)
    base_model = result.models[("itemknn", BASELINE, 0)]
    mixup_model = result.models[("itemknn", "mixup", 0)]
    dropout_model = result.models[("itemknn", "edge-dropout", 0)]
    mixup_rows = result.synthetic[result.synthetic["origin"] == "mixup"]
    n_virtual = mixup_rows["user_id"].nunique()
    assert n_virtual > 0 and mixup_rows["user_id"].str.startswith(VIRTUAL_PREFIX).all()
    # The virtual users were appended as extra training rows ...
    assert mixup_model.train_.shape[0] == ml100k.n_users + n_virtual
    assert mixup_model.train_[ml100k.n_users :].nnz == len(mixup_rows)
    # ... but every evaluated user is real, and the same users are evaluated in every variant.
    evaluated = {
        variant: result.user_metrics[("itemknn", variant, 0)].users for variant in (BASELINE, "mixup", "edge-dropout")
    }
    for users in evaluated.values():
        assert users.max() < ml100k.n_users
        np.testing.assert_array_equal(users, evaluated[BASELINE])
    # edge-dropout removed exactly its budget of real training edges from the augmented matrix.
    info = next(i for i in result.augment_info if i["augmenter"] == "edge-dropout")
    assert info["removed"] == info["budget"] > 0
    assert dropout_model.train_.nnz == base_model.train_.nnz - info["removed"]
    assert (dropout_model.train_ - base_model.train_).max() <= 0, "only removals, nothing added"
