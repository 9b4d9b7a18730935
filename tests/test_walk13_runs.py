"""Walk 13: what validation chose, as a saved run tells it (Runs page and ``runs show``): the choices when kept,
nothing when no model chose, and "not recorded" only for a run saved before runs kept them with a choosing model."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, ExperimentResult, run_experiment
from recaug.experiment.executor import SerialExecutor
from recaug.experiment.result import chosen_notes, chosen_table
from recaug.reporting.export import SELECTION_FILE
from recaug.reporting.runs import (
    CONFIG_FILE,
    RESULTS_FILE,
    SELECTION_RECORDED,
    Run,
    describe_run,
    load_run,
    run_choice_notes,
    save_run,
    write_manifest,
)
from tests.conftest import planted_interactions

GRID = (10.0, 100.0)
# EASE chooses its L2 on validation; cold-items with 30% of the items held out (not the default 15%).
CONFIG = ExperimentConfig(
    data="planted",
    augmenters=["random"],
    budget=30,
    target="all",
    models=["pop", "ease"],
    model_params={"ease": {"reg_grid": GRID}},
    seeds=[0],
    metrics=["ndcg"],
    ks=[10],
    primary=["ndcg@10"],
    protocol="cold-items",
    protocol_params={"fraction": 0.3},
)
NOT_RECORDED = "What validation chose for ease (epochs, grid points) is not recorded for this run"


@pytest.fixture(scope="module")
def planted_svd() -> Dataset:
    """The planted data without item text: item vectors are SVD factors (no text encoder), fits take a second."""
    return Dataset.from_frames(planted_interactions(), None, name="planted")


@pytest.fixture(scope="module")
def chose(planted_svd: Dataset) -> ExperimentResult:
    return run_experiment(planted_svd, CONFIG, executor=SerialExecutor())


def as_older_run(run: Run) -> str:
    """Make ``run`` look saved before runs kept what validation chose: no selection.csv, no flag, a matching
    manifest (so it is not damaged). Returns its id."""
    (run.path / SELECTION_FILE).unlink(missing_ok=True)
    meta = json.loads((run.path / CONFIG_FILE).read_text())
    del meta[SELECTION_RECORDED]
    (run.path / CONFIG_FILE).write_text(json.dumps(meta))
    write_manifest(run.path, {RESULTS_FILE: len(run.results)})
    return run.run_id


def test_a_kept_choice_reads_as_on_compare_and_in_runs_show(chose: ExperimentResult, tmp_path: Path) -> None:
    assert set(chose.chosen.loc[chose.chosen["setting"] == "reg", "value"]) <= set(GRID)
    run = load_run(save_run(chose, root=tmp_path).run_id, tmp_path)
    notes = run_choice_notes(run)
    assert notes == chosen_notes(chose.chosen) and notes[0].startswith("ease: reg chosen on validation — baseline ")
    assert all(f"  {line}" in describe_run(run) for line in notes)


def test_only_an_older_run_with_a_choosing_model_says_not_recorded(chose: ExperimentResult, tmp_path: Path) -> None:
    older = load_run(as_older_run(save_run(chose, root=tmp_path)), tmp_path)
    notes = run_choice_notes(older)
    assert len(notes) == 1 and NOT_RECORDED in notes[0] and NOT_RECORDED in describe_run(older)  # `runs show` too
    # Saved now, nothing chosen (no validation look picked anything): kept as empty, not "not recorded".
    nothing = load_run(save_run(replace(chose, chosen=chosen_table([])), root=tmp_path).run_id, tmp_path)
    assert nothing.chosen is None and run_choice_notes(nothing) == []
    # An older run of models that choose nothing had nothing to record.
    pop_only = replace(chose, config=replace(chose.config, models=["pop"]), chosen=chosen_table([]))
    assert run_choice_notes(load_run(as_older_run(save_run(pop_only, root=tmp_path)), tmp_path)) == []


def test_runs_show_words_the_budget_and_the_protocols_parameters(chose: ExperimentResult, tmp_path: Path) -> None:
    """Walk 13: `runs show` printed "budget 0.1" and "protocol cold-items" where the dashboard says more."""
    from recaug.reporting.runs import run_summary

    run = load_run(save_run(chose, root=tmp_path).run_id, tmp_path)
    for text in (describe_run(run), run_summary(run)):
        assert "budget 30 rows  target all" in text
        assert "protocol cold-items (30% of items held out" in text
