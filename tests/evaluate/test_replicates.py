"""Replicates that replicate (issue 17): a fixed split gives a deterministic model no replicate; saved tables load;
two runs compare on their primary rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recaug.data.dataset import Dataset
from recaug.data.splits import seed_changes_split
from recaug.evaluate.design import (
    AUGMENTATION_DRAW,
    MODEL_SEED,
    NOTHING,
    SPLIT_AND_MODEL,
    TIES_AND_MODEL,
    Question,
    parse_primary,
)
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
    base = pd.Series([False, True, False, True])
    delta = pd.Series([False, False, True, True])
    fixed = Question(split_varies=False).replicate(base, delta)
    assert fixed.tolist() == [NOTHING, MODEL_SEED, AUGMENTATION_DRAW, MODEL_SEED]
    ties = Question(split_varies=False, ties_vary=True).replicate(base, delta)
    assert ties.tolist() == [NOTHING, TIES_AND_MODEL, TIES_AND_MODEL, TIES_AND_MODEL]
    assert Question().replicate(base, delta).tolist() == [SPLIT_AND_MODEL] * 4


def test_on_a_fixed_split_the_seeds_replicate_what_moved_and_nothing_else(planted: Dataset) -> None:
    """Walk 12: a deterministic model trained on a seeded augmentation (``random``) had "no verdict" while EASE on the
    same design had one. What moved decides: ``random``'s draw is a replicate; a deterministic augmentation feeding a
    deterministic model is not, and its exact delta gets an interval over test users."""
    config = ExperimentConfig(
        protocol="temporal",
        augmenters=["random", "itemknn-expansion"],
        budget=30,
        target="all",
        models=["pop", "itemknn"],
        seeds=[0, 1, 2],
    )
    result = run_experiment(planted, config)
    table = significance_table(result)
    primary = table[table["primary"]]
    drawn, fixed = primary[primary["variant"] == "random"], primary[primary["variant"] == "itemknn-expansion"]
    # A row is a replicate exactly where its per-seed deltas moved (on this tiny data one itemknn row does not).
    moved = drawn["se"] > 0
    assert len(drawn) == 4 and moved.sum() >= 3
    assert drawn["replicate"].eq(AUGMENTATION_DRAW).eq(moved).all() and drawn["n_seeds"].eq(3).all()
    assert drawn.loc[moved, "verdict"].ne(FIXED_SPLIT).all() and drawn.loc[moved, "mde"].notna().all()
    assert "what varied is the augmentation's draw" in verdict_sentence(drawn[moved].iloc[0])
    assert len(fixed) == 4 and fixed["replicate"].eq(NOTHING).all()
    assert fixed["verdict"].eq(FIXED_SPLIT).all() and fixed["q_ttest"].isna().all()
    assert fixed["mde"].isna().all()
    # The interval is over test users, and it holds the exact delta.
    assert fixed["ci_low"].notna().all() and (fixed["ci_low"] <= fixed["delta"]).all()
    assert (fixed["delta"] <= fixed["ci_high"]).all()
    sentence = verdict_sentence(fixed.iloc[0])
    assert "test-user interval" in sentence and "nothing moved between seeds" in sentence
    assert FIXED_SPLIT in verdict_summary(table)


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


def test_a_tiny_delta_is_not_shown_as_zero() -> None:
    """Walk 12: a pop row read "Δ +0.0000 ... about 9 seeds would decide this Δ"."""
    from recaug.evaluate.significance import delta_text

    assert delta_text(3.2e-05) == "+3.2e-05" and delta_text(-0.01234) == "-0.0123" and delta_text(0.0) == "+0.0000"
