"""Walk 13: when validation keeps a barely trained model (tiny uploads: BPR's chosen epoch 2-10 of a 300-epoch budget),
the chosen-on-validation notes say so once per model, with how many fits and validation users, in every view that
prints them (CLI and Compare through model_use_notes, `runs show` through chosen_notes of selection.csv)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, ExperimentResult, run_experiment
from recaug.experiment.result import (
    VALID_USERS,
    chosen_notes,
    chosen_rows,
    chosen_table,
    model_use_notes,
    with_valid_users,
)
from recaug.reporting.runs import describe_run, load_run, run_result, save_run
from tests.conftest import planted_interactions

ADVICE = "Use more data, a larger validation share, or compare with pop/itemknn which need no training."
# Chosen BPR epochs (epochs run) measured with recaug.compare(models=pop,bpr, augment=random, seeds 0-2), arms
# baseline then random, seeds 0, 1, 2: the first 40 users of ML-100k (40 validation users) and all of it (943).
TINY = [(4, 16), (94, 106), (2, 14), (154, 166), (2, 14), (2, 14)]
FULL = [(78, 90), (78, 90), (58, 70), (58, 70), (48, 60), (54, 66)]


def bpr_fits(epochs: list[tuple[int, int]], score: float = 0.05) -> pd.DataFrame:
    """The chosen table of six BPR fits (two arms x seeds 0-2) that kept these (epoch, epochs run)."""
    keys = [(arm, seed) for arm in ("baseline", "random") for seed in (0, 1, 2)]
    rows = [
        row
        for (arm, seed), (epoch, ran) in zip(keys, epochs, strict=True)
        for row in chosen_rows(("bpr", arm, seed), {"epoch": epoch, "epochs_run": ran, "valid_ndcg@10": score})
    ]
    return chosen_table(rows)


def warnings(lines: list[str]) -> list[str]:
    return [line for line in lines if "barely trained" in line]


@pytest.mark.parametrize(
    ("epochs", "score", "flagged"),
    [
        (TINY, 0.05, 4),  # 2, 2, 2, 4 of 6: early stopping ended each within 12 epochs of its pick
        ([(60, 72)] * 4 + [(2, 14)] * 2, 0.0, 6),  # every look scored 0: none rose above its first
        (FULL, 0.24, 0),
        ([(2, 14)] * 3 + [(60, 72)] * 3, 0.05, 0),  # half is not a majority
        ([(8, 10)] * 6, 0.05, 0),  # max_epochs 10 ended the fits, not early stopping: a short budget, not a bad pick
    ],
)
def test_the_note_marks_a_majority_of_barely_trained_fits(
    epochs: list[tuple[int, int]], score: float, flagged: int
) -> None:
    lines = chosen_notes(bpr_fits(epochs, score))
    assert lines[0].startswith("bpr: epoch chosen on validation — baseline ")
    if not flagged:
        assert warnings(lines) == [] and len(lines) == 1
        return
    assert len(lines) == 2  # one line per model, not per seed
    assert lines[1].startswith(f"bpr: validation kept a barely trained model in {flagged} of 6 fits")
    assert lines[1].endswith(ADVICE)


def test_the_note_names_the_validation_users_of_the_run() -> None:
    """The run writes each seed's validation users into the chosen table, so the note can name them."""
    selection = {0: (40, 40), 1: (38, 38), 2: (41, 41)}
    result = ExperimentResult(
        config=ExperimentConfig(models=["pop", "bpr"]),
        results=pd.DataFrame(),
        synthetic=pd.DataFrame(),
        split=pd.DataFrame(),
        augment_info=[],
        user_metrics={},
        timings={},
        fingerprint="",
        selection=selection,
        chosen=with_valid_users(bpr_fits(TINY), selection),
    )
    assert result.chosen.groupby("seed")[VALID_USERS].unique().map(list).to_dict() == {0: [40], 1: [38], 2: [41]}
    (note,) = warnings(model_use_notes(result))
    assert "4 of 6 fits" in note and ": its 38-41 validation users could not tell a trained bpr" in note


def test_a_saved_run_shows_the_note_in_runs_show_and_when_reopened(tmp_path: Path) -> None:
    """Through selection.csv: `runs show` (describe_run) and the reopened run's notes (Compare, CLI) carry it."""
    data = Dataset.from_frames(planted_interactions(n_users=30), name="planted")
    config = ExperimentConfig(augmenters=["random"], budget=10, target="all", models=["pop"], seeds=[0])
    live = run_experiment(data, config)
    seeds = dict.fromkeys((0, 1, 2), next(iter(live.selection.values())))
    result = replace(
        live,
        config=replace(config, models=["pop", "bpr"]),
        selection=seeds,
        chosen=with_valid_users(bpr_fits(TINY), seeds),
    )
    (note,) = warnings(model_use_notes(result))
    users = seeds[0][0]
    assert "4 of 6 fits" in note and f": its {users} validation users could not" in note
    run = save_run(result, root=tmp_path)
    assert f"  {note}" in describe_run(load_run(run.run_id, root=tmp_path)).splitlines()
    assert note in model_use_notes(run_result(load_run(run.run_id, root=tmp_path)))


def test_a_run_saved_before_validation_users_were_recorded_still_gets_the_note() -> None:
    old = bpr_fits(TINY).drop(columns=[VALID_USERS])
    (note,) = warnings(chosen_notes(old))
    assert ": validation (its user count was not recorded) could not tell" in note


def test_a_cold_items_split_aimed_elsewhere_says_so() -> None:
    from recaug.experiment.result import target_note

    aimed = ExperimentConfig(protocol="cold-items", augmenters=["similarity"], target="light-users")
    assert "aimed at light-users: no synthetic row touches a held-out item" in str(target_note(aimed))
    assert target_note(replace(aimed, target="cold-items")) is None
    assert target_note(replace(aimed, protocol="random-811")) is None
    assert target_note(replace(aimed, augmenters=[])) is None


def test_users_given_more_synthetic_rows_than_real_ones_are_named() -> None:
    """Three listed users and a 10% budget: each gets far more rows than their history, and a note says so."""
    from recaug.experiment.result import dose_notes

    data = Dataset.from_frames(planted_interactions(n_users=60), name="planted")
    listed = ["u0", "u1", "u2"]
    config = ExperimentConfig(augmenters=["random"], budget=60, target=listed, models=["pop"], seeds=[0])
    (note,) = dose_notes(run_experiment(data, config))
    assert note.startswith("random gave 3 of the 3 users it touched more synthetic rows than their real")
    assert "median 20 synthetic" in note and "--max-per-user" in note
    spread = replace(config, target="all", budget=30)  # half a row per user: nobody becomes mostly synthetic
    assert dose_notes(run_experiment(data, spread)) == []
