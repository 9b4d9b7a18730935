"""The cost table: what each method produced and what it cost to produce and to train on."""

from __future__ import annotations

import numpy as np
import pytest

from recaug.experiment import ExperimentConfig, run_experiment
from recaug.experiment.cost import COST_COLUMNS, cost_table


@pytest.fixture(scope="module")
def two_seed_run(ml100k):
    config = ExperimentConfig(augmenters=["random", "popularity"], budget=500, models=["pop", "itemknn"], seeds=[0, 1])
    return run_experiment(ml100k, config)


def test_one_row_per_variant_with_seed_means(two_seed_run) -> None:
    cost = cost_table(two_seed_run)
    assert list(cost.columns) == COST_COLUMNS
    assert list(cost["variant"]) == ["baseline", "random", "popularity"]
    cost = cost.set_index("variant")
    assert cost.loc["random", "synthetic_rows"] == 500 and cost.loc["popularity", "synthetic_rows"] == 500
    assert np.isnan(cost.loc["baseline", "synthetic_rows"]) and cost.loc["baseline", "extra_fit_seconds"] == 0
    timings = two_seed_run.timings
    assert cost.loc["random", "augment_seconds"] == pytest.approx(
        (timings["augment:random:0"] + timings["augment:random:1"]) / 2
    )
    baseline_fit = np.mean([timings[f"fit:pop:baseline:{s}"] + timings[f"fit:itemknn:baseline:{s}"] for s in (0, 1)])
    assert cost.loc["baseline", "fit_seconds"] == pytest.approx(baseline_fit)
    assert cost.loc["random", "extra_fit_seconds"] == pytest.approx(cost.loc["random", "fit_seconds"] - baseline_fit)
    assert cost["llm_calls"].isna().all(), "no LLM method, no LLM columns filled"


def test_real_users_given_rows_and_virtual_users_are_counted_apart(ml100k, ml100k_train) -> None:
    """Mixup's virtual users were counted as 'users touched' (329 where the light-user target holds ~245)."""
    from recaug.augment import create_augmenter
    from recaug.data.dataset import VIRTUAL_PREFIX

    mixup = create_augmenter("mixup", seed=0).fit(ml100k_train).augment(0.05)
    users = mixup.rows["user_id"].astype(str)
    virtual = users.str.startswith(VIRTUAL_PREFIX)
    assert virtual.any(), "mixup makes virtual users"
    assert mixup.info["virtual_users"] == users[virtual].nunique()
    assert mixup.info["users_touched"] == users[~virtual].nunique()
    random = create_augmenter("random", seed=0).fit(ml100k_train).augment(0.05)
    assert random.info["virtual_users"] == 0 and random.info["users_touched"] == random.rows["user_id"].nunique()
