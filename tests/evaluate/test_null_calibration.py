"""Calibration on real ML-100k (issue #9): null arms get no verdict, a planted real loss does.

The fast version of ``benchmarks/null_calibration.py``: one 3-seed experiment with the A/A control (the baseline
refitted with fresh model seeds) and ``random@1`` (one random row added to ~80k), judged exactly as the CLI judges a
run. Under the old per-seed user bootstrap this design labelled rows of slice ``all`` "better"/"worse".
BPR is capped at a few epochs to keep the test fast; the cap changes its accuracy, not the inference under test.
"""

from __future__ import annotations

import pandas as pd
import pytest

from recaug.data.dataset import Dataset
from recaug.evaluate.significance import AA_CONTROL, NO_DIFFERENCE, TOO_FEW_USERS, significance_table
from recaug.experiment import ExperimentConfig, run_experiment

FALSE_WORDS = ("better", "worse", "higher", "lower")
ACCURACY = {"metrics": ["ndcg", "recall"], "ks": [10, 20], "seeds": [0, 1, 2]}


@pytest.fixture(scope="module")
def null_table(ml100k: Dataset) -> pd.DataFrame:
    config = ExperimentConfig(
        augmenters=["random@1"],
        models=["pop", "itemknn", "bpr"],
        model_params={"bpr": {"max_epochs": 8}},
        aa_control=True,
        **ACCURACY,
    )
    return significance_table(run_experiment(ml100k, config))


def test_null_arms_get_no_verdict_in_slice_all(null_table: pd.DataFrame) -> None:
    rows = null_table[null_table["slice"] == "all"]
    assert set(rows["variant"]) == {AA_CONTROL, "random@1"}
    assert len(rows) == 2 * 3 * 4  # arms x models x metric@k
    assert (rows["n_seeds"] == 3).all() and (rows["n_users"] > 900).all()
    assert rows["verdict"].eq(NO_DIFFERENCE).all(), rows[rows["verdict"] != NO_DIFFERENCE].to_string()
    # The intervals agree with the verdicts: every one contains 0.
    assert ((rows["ci_low"] <= 0) & (rows["ci_high"] >= 0)).all()


def test_false_verdict_rate_over_every_slice_is_at_most_5_percent(null_table: pd.DataFrame) -> None:
    assert null_table["slice"].nunique() >= 8  # all, activity quarters, touched/untouched, item slices
    false = null_table["verdict"].isin(FALSE_WORDS)
    assert false.mean() <= 0.05, null_table[false].to_string()
    # The one user who received the random row is a slice of one: no interval and no verdict.
    touched = null_table[null_table["slice"] == "touched:random@1"]
    assert len(touched) and touched["verdict"].eq(TOO_FEW_USERS).all() and touched["ci_low"].isna().all()


def test_noise_floor_is_zero_for_deterministic_models_and_positive_for_bpr(null_table: pd.DataFrame) -> None:
    control = null_table[(null_table["variant"] == AA_CONTROL) & (null_table["slice"] == "all")]
    deterministic = control[control["model"].isin(["pop", "itemknn"])]
    assert (deterministic["delta"] == 0).all() and (deterministic["noise_floor"] == 0).all()
    bpr = control[control["model"] == "bpr"]
    assert (bpr["noise_floor"] > 1e-4).all() and (bpr["noise_floor"] < 0.05).all()


def test_a_planted_real_loss_is_detected(ml100k: Dataset) -> None:
    """Removing 30% of every user's training edges truly hurts item-kNN (about -0.03 NDCG@10 on ML-100k)."""
    config = ExperimentConfig(
        augmenters=["edge-dropout@30%"],
        augmenter_params={"edge-dropout": {"target": "all"}},
        models=["itemknn"],
        aa_control=False,
        **ACCURACY,
    )
    table = significance_table(run_experiment(ml100k, config))
    rows = table[table["slice"] == "all"].set_index(["metric", "k"])
    assert len(rows) == 4
    assert rows["verdict"].eq("worse").all(), rows.to_string()
    assert (rows["ci_high"] < 0).all()
    assert -0.045 < rows.loc[("ndcg", 10), "delta"] < -0.015
    assert -0.045 < rows.loc[("recall", 20), "delta"] < -0.01
