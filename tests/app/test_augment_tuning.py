"""The Augment page shows what tuning the encoder on the training split costs (issue 20, item 3), before and after.

Small planted data (60 users, 40 items), the real packaged MiniLM and the real tuned-encoder training, a fresh cache.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from recaug.data.dataset import Dataset
from recaug.text.finetune import tuning_estimate
from recaug.text.llm.lora import DEFAULT_SETTINGS
from tests.app.conftest import REPO, no_errors
from ui.state import AUGMENT_RESULTS, DATASET, current_split


def info_text(app: AppTest) -> str:
    return " ".join(i.value for i in app.info)


def test_the_tuned_encoders_cost_is_estimated_then_recorded_then_cached(
    planted: Dataset, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RECAUG_NO_WARMUP", "1")
    monkeypatch.setenv("RECAUG_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("RECAUG_HOME", str(tmp_path / "home"))  # nothing tuned yet
    monkeypatch.chdir(REPO)
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    app.session_state[DATASET] = planted
    app.run()
    app.switch_page("pages/1_Augment.py").run()
    app.multiselect(key="aug_methods").set_value(["similarity"]).run()
    assert "Tuned encoder" not in info_text(app), "the packaged encoder has no training cost to show"
    app.text_input(key="aug_param:similarity:encoder").set_value("tuned").run()
    no_errors(app)

    split = current_split(planted, 0)
    train = planted.training_data(split.train, cold_items=split.cold_items)
    plan = tuning_estimate(train.matrix, train.items["text"].tolist())
    before = info_text(app)
    assert "Tuned encoder for similarity: not tuned on the training split of random-811 seed 0" in before
    assert f"{plan['steps']:,} steps on {plan['examples']:,} co-interaction pairs" in before
    anchors = int((np.asarray((train.matrix > 0).sum(axis=0)).ravel() >= 3).sum())  # items with 3+ training users
    assert int(plan["examples"]) == 40 * anchors and plan["steps"] == 3 * -(-(40 * anchors - 1) // 256)

    app.button(key="run_augment").click().run()
    no_errors(app)
    info = app.session_state[AUGMENT_RESULTS]["similarity"].info
    (record,) = info["tuning"]
    assert record["component"] == "tuned encoder" and record["cached"] is False
    assert record["steps"] == plan["steps"] and record["examples"] == plan["examples"], "the estimate's counts hold"
    assert record["users"] == train.matrix.shape[0] and record["interactions"] == train.matrix.nnz
    assert 0 < record["cpu_s"] < 120 and record["wall_s"] > 0 and record["last_loss"] < record["first_loss"]
    shown = next(f.value for f in app.dataframe if "tuned component" in f.value.columns)
    assert shown.iloc[0]["this run"] == "trained now" and shown.iloc[0]["CPU-s"] == record["cpu_s"]

    after = info_text(app)  # the form now finds the tuned encoder in the cache, with the cost recorded above
    assert "already tuned on the training split of random-811 seed 0" in after
    assert f"Training it cost {record['cpu_s']} CPU-s ({record['wall_s']} s wall)" in after

    app.slider(key="aug_budget_pct").set_value(5).run()  # another run on the same split: no training
    app.button(key="run_augment").click().run()
    no_errors(app)
    (again,) = app.session_state[AUGMENT_RESULTS]["similarity"].info["tuning"]
    assert again["cached"] is True and again["cpu_s"] == record["cpu_s"]
    shown = next(f.value for f in app.dataframe if "tuned component" in f.value.columns)
    assert shown.iloc[0]["this run"] == "loaded from cache (paid earlier)"

    # The tuned LLM (helper "tune"'s LoRA SmolLM2) is named before the run with what it trains.
    app.multiselect(key="aug_methods").set_value(["similarity", "llm-interactions"]).run()
    app.text_input(key="llm_model").set_value("tuned").run()
    no_errors(app)
    assert "Tuned LLM for llm-interactions: the packaged SmolLM2 with LoRA adapters" in info_text(app)
    steps = f"{DEFAULT_SETTINGS.steps} steps on {DEFAULT_SETTINGS.examples:,} history"
    assert steps in info_text(app) and "already tuned" in info_text(app), "the encoder's line stays"


def test_a_second_tuned_components_record_shows_in_the_same_table(planted: Dataset) -> None:
    """The page draws any component's record (here the shape helper "tune"'s tuned LLM writes) with no code of its
    own: shared fields under readable names first, the component's extra fields after them."""
    from recaug.text.tuning_cost import add_tuning_cost, cost_record
    from ui.augment_tuning import cost_frame

    matrix = planted.training_data(planted.interactions).matrix
    info: dict = {}
    encoder = cost_record(
        "tuned encoder", cpu_s=5.8, wall_s=13.0, examples=1560, steps=21, matrix=matrix, seed=0, cached=True
    )
    llm = cost_record(
        "tuned LLM", cpu_s=90.0, wall_s=120.0, examples=960, steps=120, matrix=matrix, seed=0, cached=False, answers=4
    )
    for record in (encoder, llm, encoder):
        add_tuning_cost(info, record)
    table = cost_frame(info["tuning"])
    assert list(table["tuned component"]) == ["tuned encoder", "tuned LLM"], "each component once"
    assert list(table.columns[:4]) == ["tuned component", "CPU-s", "wall s", "training examples"]
    assert table.columns[-1] == "answers" and table["answers"].iloc[1] == 4
    assert list(table["this run"]) == ["loaded from cache (paid earlier)", "trained now"]
    assert list(table["split interactions"]) == [matrix.nnz, matrix.nnz]
