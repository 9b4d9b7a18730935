"""The Compare page's decisions, without a browser: the callback that adds strong baselines, the default slice,
staleness of shown results."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import ui.compare_controller as controller
from recaug.data.dataset import Dataset
from ui.cached import config_key


@pytest.fixture()
def session(monkeypatch: pytest.MonkeyPatch) -> dict:
    state: dict = {}
    monkeypatch.setattr(controller, "st", SimpleNamespace(session_state=state))
    monkeypatch.setattr(controller, "recalled", lambda key, default: state.get("_memory", {}).get(key, default))
    monkeypatch.setattr(
        controller, "remember", lambda key, value: state.setdefault("_memory", {}).update({key: value}) or value
    )
    return state


def test_adding_strong_baselines_updates_the_models_and_runs_at_once(session: dict) -> None:
    session["cmp_models"] = ["pop", "bpr"]
    controller.add_models_and_run(["bpr-tuned", "ease", "bpr"])
    assert session["cmp_models"] == ["pop", "bpr", "bpr-tuned", "ease"]  # the widget shows them in this rerun
    assert controller.run_requested(False) is True  # ... and the comparison runs without a second click
    assert controller.run_requested(False) is False  # once


def test_cold_items_protocol_shows_the_cold_item_slice_first() -> None:
    slices = ["all", "activity-q1", "cold-items", "warm-items"]
    assert slices[controller.default_slice(slices, "cold-items")] == "cold-items"
    assert slices[controller.default_slice(slices, "random-811")] == "all"
    assert controller.default_slice(["all"], "cold-items") == 0


def test_results_made_with_other_settings_are_stale(session: dict, planted: Dataset) -> None:
    aug = {"augmenters": ["random"], "augmenter_params": {}, "budget": 0.1, "target": "all", "seed": 0}
    config = controller.compare_config(planted, aug, ["pop"], 3, [])
    assert config.seeds == [0, 1, 2] and config.data == "planted" and not config.aa_control  # A/A: opt-in
    assert not controller.is_stale(planted, config)  # nothing shown yet
    session[controller.EXPERIMENT_KEY] = config_key(planted, config.to_dict())
    assert not controller.is_stale(planted, config)
    assert controller.is_stale(planted, controller.compare_config(planted, aug, ["pop"], 2, []))
    assert controller.is_stale(
        planted, controller.compare_config(planted, {**aug, "target": "light-users"}, ["pop"], 3, [])
    )
    assert controller.is_stale(planted, controller.compare_config(planted, aug, ["pop"], 3, [], aa_control=True))
