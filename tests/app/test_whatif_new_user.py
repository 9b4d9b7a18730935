"""What-if → New user after a comparison with a tuned model (user test: bpr-tuned blanked every model's answer)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from streamlit.testing.v1 import AppTest

from recaug.data.builtin import load_ml100k
from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, ExperimentResult, run_experiment
from recaug.experiment.executor import SerialExecutor
from tests.app.conftest import no_errors
from ui.state import EXPERIMENT


@pytest.fixture(scope="module")
def tuned_comparison() -> ExperimentResult:
    """One seed of pop, itemknn and bpr-tuned (a one-point grid, so it fits in seconds), baseline and similarity."""
    interactions, items = load_ml100k()
    dataset = Dataset.from_frames(interactions, items, name="ml-100k")
    config = ExperimentConfig(
        models=["pop", "itemknn", "bpr-tuned"],
        model_params={"bpr-tuned": {"grid": {"lr": (0.01,), "max_epochs": (3,)}}},
        seeds=[0],
    )
    return run_experiment(dataset, config, keep_models=True, executor=SerialExecutor())


def test_new_user_gets_every_model_after_a_tuned_comparison(app: AppTest, tuned_comparison: ExperimentResult) -> None:
    app.session_state[EXPERIMENT] = tuned_comparison
    app.switch_page("pages/5_What_if.py").run()
    no_errors(app)
    app.multiselect(key="whatif_liked").set_value(["50", "181", "100"]).run()  # Star Wars, Jedi, Fargo
    no_errors(app)
    assert not app.info or not any("is not shown" in box.value for box in app.info), [b.value for b in app.info]
    table = app.dataframe[-1].value
    expected = {
        f"{model} · {variant}" for model in ("pop", "itemknn", "bpr-tuned") for variant in ("baseline", "similarity")
    }
    assert set(table.columns) == expected
    assert len(table) == 10 and table.notna().all().all()
    assert not table.isin(["Star Wars (1977)", "Return of the Jedi (1983)", "Fargo (1996)"]).any().any()


class Broken:
    """A fitted model whose fold-in fails (a bug in one model): it must be listed, not blank the others."""

    name = "broken"

    def score(self, users: np.ndarray) -> np.ndarray:
        raise RuntimeError("internal failure")

    def score_history(self, history: sp.csr_matrix) -> np.ndarray:
        raise RuntimeError("internal failure")


def test_a_failing_model_is_listed_with_a_reason_and_the_others_still_answer(
    app: AppTest, tuned_comparison: ExperimentResult
) -> None:
    models = {**tuned_comparison.models, ("broken", "baseline", 0): Broken()}
    app.session_state[EXPERIMENT] = dataclasses.replace(tuned_comparison, models=models)
    app.switch_page("pages/5_What_if.py").run()
    app.multiselect(key="whatif_liked").set_value(["50", "181"]).run()
    no_errors(app)
    notes = [box.value for box in app.info if "is not shown" in box.value]
    assert notes == [
        "**broken · baseline** is not shown: scoring the new user failed unexpectedly (details are in the log)."
    ]
    assert len(app.dataframe[-1].value.columns) == 6  # pop, itemknn, bpr-tuned x baseline, similarity
