"""Replicates that replicate (issue 17): a fixed split gives a deterministic model no replicate; saved tables load;
two runs compare on their primary rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recaug.data.dataset import Dataset
from recaug.data.splits import seed_changes_split
from recaug.evaluate.design import MODEL_SEED, NOTHING, SPLIT_AND_MODEL, Question, parse_primary
from recaug.evaluate.power import mde, seeds_to_decide
from recaug.evaluate.significance import (
    FIXED_SPLIT,
    NO_DIFFERENCE,
    SIGNIFICANCE_COLUMNS,
    complete,
    significance_table,
    verdict_sentence,
    verdict_summary,
    weak_baseline_warning,
)
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.models import MODELS
from recaug.reporting.run_verdicts import primary_side_by_side
from recaug.reporting.runs import save_run


def test_protocols_and_models_declare_what_a_seed_varies() -> None:
    assert seed_changes_split("random-811") and seed_changes_split("cold-users")
    assert not seed_changes_split("temporal") and not seed_changes_split("leave-last-out")
    assert MODELS.get("pop").deterministic and MODELS.get("itemknn").deterministic
    assert not MODELS.get("bpr").deterministic and not MODELS.get("lightgcn").deterministic
    models = pd.Series(["pop", "bpr"])
    fixed = Question(split_varies=False, deterministic=frozenset({"pop"})).replicate(models)
    assert fixed.tolist() == [NOTHING, MODEL_SEED]
    assert Question(deterministic=frozenset({"pop"})).replicate(models).tolist() == [SPLIT_AND_MODEL] * 2


def test_a_deterministic_model_on_a_fixed_split_gets_its_exact_delta_and_a_test_user_interval(planted: Dataset) -> None:
    config = ExperimentConfig(
        protocol="temporal", augmenters=["random"], budget=30, target="all", models=["pop", "itemknn"], seeds=[0, 1, 2]
    )
    result = run_experiment(planted, config)
    table = significance_table(result)
    primary = table[table["primary"] & (table["variant"] == "random")]
    assert len(primary) == 4 and primary["replicate"].eq(NOTHING).all()
    assert primary["verdict"].eq(FIXED_SPLIT).all() and primary["q_ttest"].isna().all()
    assert primary["mde"].isna().all()
    # The interval is over test users (the seeds only re-draw the augmentation), and it holds the exact delta.
    assert primary["ci_low"].notna().all() and (primary["ci_low"] <= primary["delta"]).all()
    assert (primary["delta"] <= primary["ci_high"]).all()
    sentence = verdict_sentence(primary.iloc[0])
    assert "test-user interval" in sentence and "deterministic: no training noise" in sentence
    assert "this split does not change between seeds" in verdict_summary(table)


def test_power_formulas() -> None:
    sd = np.full(3, 0.0035)
    three, five, ten = mde(sd, np.array([3, 5, 10]), 0.05)
    assert three == pytest.approx(0.0035 * (4.303 + 1.061) / np.sqrt(3), rel=1e-3)
    assert three > five > ten
    assert np.isnan(mde(sd[:1], np.array([1]), 0.05)[0])
    needed = seeds_to_decide(np.array([0.016, 0.004, 0.0]), np.full(3, 0.0035), 0.025)
    assert needed[0] <= 4 < needed[1] and np.isnan(needed[2])
    assert (mde(np.full(1, 0.0035), needed[1:2], 0.025) <= 0.004).all()
    assert parse_primary("NDCG@10, recall@20") == (("ndcg", 10), ("recall", 20))


def test_an_old_significance_table_still_loads() -> None:
    old = pd.DataFrame(
        {
            "model": ["bpr"],
            "variant": ["random"],
            "slice": ["all"],
            "metric": ["ndcg"],
            "k": [10],
            "delta": [0.01],
            "ci_low": [0.002],
            "ci_high": [0.018],
            "p_ttest": [0.03],
            "q_ttest": [0.03],
            "n_seeds": [3],
            "n_users": [943],
            "se": [0.002],
            "noise_floor": [0.008],
            "verdict": ["better"],
        }
    )
    table = complete(old)
    assert list(table.columns[: len(SIGNIFICANCE_COLUMNS)]) == SIGNIFICANCE_COLUMNS
    assert table["verdict"].tolist() == ["better"] and table["primary"].tolist() == [False]
    assert table["replicate"].tolist() == [SPLIT_AND_MODEL] and np.isnan(table["mde"].iloc[0])


def test_weak_baseline_warning() -> None:
    rows = pd.DataFrame({"model": ["bpr", "pop"], "value": [0.002, 0.2]}).assign(
        variant="baseline", slice="all", metric="ndcg", k=10
    )
    warning = weak_baseline_warning(rows)
    assert "bpr 0.0020" in warning and "pop" not in warning and "fragile" in warning
    assert weak_baseline_warning(rows.assign(value=0.2)) == ""


def test_two_runs_compare_on_their_primary_rows_even_without_a_shared_model(planted: Dataset, tmp_path: Path) -> None:
    saved = []
    for models in (["pop"], ["itemknn"]):
        config = ExperimentConfig(augmenters=["random"], budget=30, target="all", models=models, seeds=[0, 1, 2])
        result = run_experiment(planted, config)
        saved.append(save_run(result, significance=significance_table(result), root=tmp_path))
    table = primary_side_by_side(saved[0].run_id, saved[1].run_id, root=str(tmp_path))
    # Per run: its real arm's NDCG@10 and Recall@20 on all users (target all: no other slice).
    assert len(table) == 4 and set(table["in"]) == {"A only", "B only"}
    pop, knn = table[table["model"] == "pop"], table[table["model"] == "itemknn"]
    assert pop["delta_a"].notna().all() and pop["delta_b"].isna().all() and (pop["in"] == "A only").all()
    assert knn["delta_b"].notna().all() and knn["baseline_b"].between(0, 1).all()
    assert set(table["verdict_a"].dropna()) | set(table["verdict_b"].dropna()) <= {
        "better",
        "worse",
        NO_DIFFERENCE,
        "no change in any seed",
    }
    assert table.attrs["same_data"] is True
