"""Walk 12, item 19: what validation chose for each fit (a BPR's epoch, a tuned grid's point) is kept with the run:
in the result, selection.csv (CLI --out and the run store), reopened runs and the printed notes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import scipy.sparse as sp

from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, ExperimentResult, run_experiment
from recaug.experiment.executor import ProcessExecutor, SerialExecutor
from recaug.experiment.result import CHOSEN_COLUMNS, chosen_notes, chosen_table, model_use_notes
from recaug.models import create_model
from recaug.reporting.export import SELECTION_FILE, write_experiment
from recaug.reporting.runs import (
    MANIFEST_FILE,
    RESULTS_FILE,
    describe_run,
    load_run,
    run_result,
    save_run,
    write_manifest,
)
from tests.conftest import planted_interactions

MAX_EPOCHS = 12
GRID = {"k": (5, 20), "shrink": (0.0, 10.0)}
CONFIG = ExperimentConfig(
    augmenters=["random"],
    budget=30,
    target="all",
    models=["pop", "bpr", "itemknn-tuned"],
    model_params={"bpr": {"max_epochs": MAX_EPOCHS, "patience": 2}, "itemknn-tuned": {"grid": GRID}},
    seeds=[0, 1],
    metrics=["ndcg", "recall"],
    ks=[10],
    primary=["ndcg@10"],
)


@pytest.fixture(scope="module")
def planted_module() -> Dataset:
    """The planted data (conftest's ``planted``), once for the module."""
    ids = range(40)
    items = pd.DataFrame(
        {"item_id": [f"i{i}" for i in ids], "title": [f"Item {i}" for i in ids], "text": [f"item {i}" for i in ids]}
    )
    return Dataset.from_frames(planted_interactions(), items, name="planted")


@pytest.fixture(scope="module")
def runs(planted_module: Dataset) -> dict[str, ExperimentResult]:
    """The same comparison on the serial executor and on a two-process pool."""
    planted = planted_module
    return {
        "serial": run_experiment(planted, CONFIG, executor=SerialExecutor()),
        "local": run_experiment(planted, CONFIG, executor=ProcessExecutor(2)),
    }


def test_every_selecting_fit_records_its_choice_inside_its_range(runs: dict[str, ExperimentResult]) -> None:
    chosen = runs["serial"].chosen
    assert list(chosen.columns) == CHOSEN_COLUMNS
    assert set(chosen["model"]) == {"bpr", "itemknn-tuned"}  # pop chooses nothing
    wide = chosen.pivot_table(index=["model", "variant", "seed"], columns="setting", values="value", aggfunc="first")
    # One row per (model, variant, seed): 2 models x 2 arms x 2 seeds.
    assert len(wide) == 2 * 2 * 2 and not wide.index.duplicated().any()
    bpr = wide.loc["bpr"]
    assert bpr["epoch"].between(1, MAX_EPOCHS).all() and (bpr["epoch"] <= bpr["epochs_run"]).all()
    assert bpr["epochs_run"].le(MAX_EPOCHS).all()
    knn = wide.loc["itemknn-tuned"]
    assert knn["k"].isin(GRID["k"]).all() and knn["shrink"].isin(GRID["shrink"]).all()
    assert knn[["epoch", "epochs_run"]].isna().all().all()  # itemknn has no epochs
    assert chosen["valid_ndcg@10"].between(0.0, 1.0).all()
    # A fit's score is one number, repeated on each of its rows.
    assert chosen.groupby(["model", "variant", "seed"])["valid_ndcg@10"].nunique().eq(1).all()


def test_the_pool_records_the_serial_runs_choices_byte_for_byte(
    runs: dict[str, ExperimentResult], tmp_path: Path
) -> None:
    serial, local = runs["serial"], runs["local"]
    assert local.chosen.equals(serial.chosen) and len(serial.chosen) > 0
    for name, result in runs.items():
        assert SELECTION_FILE in {p.name for p in write_experiment(result, tmp_path / name)}
    assert (tmp_path / "serial" / SELECTION_FILE).read_bytes() == (tmp_path / "local" / SELECTION_FILE).read_bytes()


def test_a_run_that_chose_nothing_leaves_no_selection_file(runs: dict[str, ExperimentResult], tmp_path: Path) -> None:
    """Pop and ItemKNN choose nothing: no selection.csv, and none left over from an earlier run in the folder."""
    result = runs["serial"]
    write_experiment(result, tmp_path)
    assert (tmp_path / SELECTION_FILE).is_file()
    untuned = replace(result, chosen=chosen_table([]))
    assert SELECTION_FILE not in {p.name for p in write_experiment(untuned, tmp_path)}
    assert not (tmp_path / SELECTION_FILE).exists()
    assert not (save_run(untuned, root=tmp_path / "runs").path / SELECTION_FILE).exists()
    assert chosen_notes(untuned.chosen) == []


def test_the_notes_say_what_each_arm_chose_seed_by_seed(runs: dict[str, ExperimentResult]) -> None:
    result = runs["serial"]
    notes = model_use_notes(result)
    wide = result.chosen.pivot_table(index=["model", "variant", "seed"], columns="setting", values="value")
    epochs = {v: ", ".join(f"{e:g}" for e in wide.loc[("bpr", v)]["epoch"]) for v in ("baseline", "random")}
    bpr = f"bpr: epoch chosen on validation — baseline {epochs['baseline']}; random {epochs['random']} (seeds 0, 1)"
    assert bpr in notes
    knn = next(note for note in notes if note.startswith("itemknn-tuned: k/shrink chosen on validation — baseline "))
    k, shrink = wide.loc[("itemknn-tuned", "random", 1)][["k", "shrink"]]
    assert knn.endswith(f"/{shrink:g} (seeds 0, 1)") and f"random {int(k)}/" in knn
    assert not any("epochs_run" in note for note in notes)


def test_a_saved_run_keeps_the_choices_and_an_older_run_without_them_opens(
    runs: dict[str, ExperimentResult], tmp_path: Path
) -> None:
    result = runs["serial"]
    run = save_run(result, root=tmp_path)
    assert (run.path / SELECTION_FILE).is_file() and run.chosen is not None
    reopened = run_result(load_run(run.run_id, root=tmp_path))
    assert reopened.chosen[["model", "variant", "seed", "setting"]].equals(
        result.chosen[["model", "variant", "seed", "setting"]]
    )
    assert chosen_notes(reopened.chosen) == chosen_notes(result.chosen)
    shown = describe_run(load_run(run.run_id, root=tmp_path))  # `runs show`
    assert all(f"  {line}" in shown for line in chosen_notes(result.chosen))
    # A run saved before selection.csv existed: no file, a manifest without it.
    (run.path / SELECTION_FILE).unlink()
    write_manifest(run.path, {RESULTS_FILE: len(result.results)})
    assert SELECTION_FILE not in json.loads((run.path / MANIFEST_FILE).read_text())["files"]
    old = load_run(run.run_id, root=tmp_path)
    assert old.chosen is None
    opened = run_result(old)
    assert list(opened.chosen.columns) == CHOSEN_COLUMNS and opened.chosen.empty
    assert chosen_notes(opened.chosen) == [] and isinstance(model_use_notes(opened), list)


@pytest.mark.parametrize(
    ("name", "params", "setting", "allowed"),
    [
        ("ease", {"reg_grid": (10.0, 100.0)}, "reg", {10.0, 100.0}),
        ("als", {"max_iterations": 6, "eval_every": 2, "factors": 8}, "iteration", set(range(1, 7))),
        ("lightgcn", {"max_epochs": 4, "eval_every": 1, "factors": 8}, "epoch", set(range(1, 5))),
        ("content", {"factors": 8, "scale_grid": (1.0, 4.0)}, "scale", {1.0, 4.0}),
    ],
)
def test_each_selecting_model_says_what_it_chose(
    planted_module: Dataset, name: str, params: dict[str, object], setting: str, allowed: set[float]
) -> None:
    split = CONFIG.split_spec().build(planted_module.interactions, 0)
    train, valid = planted_module.matrix(split.train), planted_module.matrix(split.valid)
    texts = planted_module.items["text"].tolist()

    def fitted(*matrices: sp.csr_matrix) -> dict[str, Any]:
        model = create_model(name, **params)
        if name == "content":
            model.set_item_texts(texts)  # type: ignore[attr-defined]
        return model.fit(*matrices).selection()

    chosen = fitted(train, valid)
    assert chosen[setting] in allowed and 0.0 <= chosen["valid_ndcg@10"] <= 1.0
    json.dumps(chosen)  # small, JSON-able values
    assert fitted(train) == {}  # no validation: nothing chosen
