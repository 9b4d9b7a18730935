"""The run says when model selection ranked a sample of the validation users (the score budget), issue #18."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recaug.data.dataset import Dataset
from recaug.evaluate.protocol import selection_users
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.experiment.result import model_use_notes, selection_note


def test_the_note_states_the_sample_only_where_a_selecting_model_ranked_one() -> None:
    note = selection_note({0: (2_500, 27_010), 1: (2_500, 26_990)}, ["pop", "itemknn", "bpr"])
    assert note is not None
    assert "bpr" in note and "pop" not in note and "2,500 of 26,990-27,010 validation users" in note
    assert "50M" in note
    assert selection_note({0: (943, 943)}, ["bpr"]) is None  # every user ranked: nothing new to say
    assert selection_note({0: (2_500, 27_000)}, ["pop", "itemknn"]) is None  # no model selects on validation
    assert selection_note({}, ["bpr"]) is None


def test_a_wide_catalog_run_records_the_sample_its_looks_ranked() -> None:
    # 2,200 users x 30,000 items: 50M scores / 30,000 items = 1,666 < 2,000, so a look ranks 2,000 users.
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(2_200), 10)
    items = rng.integers(0, 30_000, size=len(users))
    frame = pd.DataFrame({"user_id": users.astype(str), "item_id": items.astype(str)}).drop_duplicates()
    frame = pd.concat([frame, pd.DataFrame({"user_id": "0", "item_id": [str(i) for i in range(30_000)]})])
    dataset = Dataset.from_frames(frame.drop_duplicates().reset_index(drop=True), name="wide")
    result = run_experiment(dataset, ExperimentConfig(augmenters=["random"], models=["pop"], seeds=[0]))
    valid = dataset.matrix(result.split_of(0).valid)
    ranked, total = result.selection[0]
    assert (ranked, total) == (len(selection_users(valid, 0)), len(np.unique(valid.nonzero()[0])))
    assert ranked == 2_000 < total
    assert not any("Model selection" in note for note in model_use_notes(result))  # pop chooses nothing
    result.config.models = ["pop", "bpr"]
    assert any("2,000 of " in note for note in model_use_notes(result))
