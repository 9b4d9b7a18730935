"""Protocols in the dashboard (walk 12, items 8, 9, 14 and 20): the protocol hover named three of five protocols and
nothing a seed changes, protocol parameters could not be set, a reopened run's parameters could not be seen, the
Compare table's interval did not say what it is over, and the cold-items note said only text methods reach cold
items (``random`` put 529 of 6,864 rows on them)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from recaug.data.dataset import Dataset
from recaug.data.splits import SPLITS, seed_effect
from recaug.evaluate.design import AUGMENTATION_DRAW, NOTHING, SPLIT_AND_MODEL
from recaug.experiment import run_experiment
from recaug.reporting.runs import save_run
from tests.app.conftest import no_errors
from tests.conftest import quick_config
from ui.augment_view import protocol_param_key
from ui.compare_view import INTERVAL_OVER, display_frame, interval_legend, never_ranked_note


def test_the_protocol_hover_describes_every_protocol_and_what_a_seed_changes(app: AppTest) -> None:
    app.switch_page("pages/1_Augment.py").run()
    hover = app.selectbox(key="aug_protocol").help
    for name in SPLITS.names():
        assert f"**{name}**" in hover and seed_effect(name) in hover
    assert "fraction" in hover and "share" in hover


def test_protocol_parameters_are_set_checked_and_used(app: AppTest) -> None:
    app.switch_page("pages/1_Augment.py").run()
    assert not [n for n in app.number_input if str(n.key).startswith("aug_protocol_param:")]  # random-811: none
    app.selectbox(key="aug_protocol").set_value("cold-items").run()
    fraction = app.number_input(key=protocol_param_key("cold-items", "fraction"))
    assert fraction.value == 0.15 and "--protocol-params fraction" in fraction.help
    assert app.session_state["augment_config"]["protocol_params"] == {}  # the default: nothing to record
    fraction.set_value(0.3).run()
    no_errors(app)
    assert app.session_state["augment_config"]["protocol_params"] == {"fraction": 0.3}
    assert any("30% of items held out" in c.value for c in app.caption)
    app.number_input(key=protocol_param_key("cold-items", "fraction")).set_value(0.0).run()
    assert [e.value for e in app.error] == [
        "protocol 'cold-items': fraction must be in (0, 0.5] (the share of items held out of training, half for "
        "validation and half for test), got 0.0 — write a value in (0, 0.5], e.g. fraction=0.15 (the default). "
        "Until then the split uses the default fraction=0.15."
    ]
    assert app.session_state["augment_config"]["protocol_params"] == {}


def test_a_reopened_run_shows_its_protocol_parameters(app: AppTest, ml100k: Dataset) -> None:
    config = quick_config(protocol="cold-users", protocol_params={"n": 2})
    save_run(run_experiment(ml100k, config), root=Path(os.environ["RECAUG_RUNS_DIR"]), dataset=ml100k)
    app.switch_page("pages/1_Augment.py").run()
    app.selectbox(key="aug_protocol").set_value("cold-users").run()
    app.number_input(key=protocol_param_key("cold-users", "share")).set_value(0.5).run()  # typed before reopening
    app.switch_page("pages/6_Runs.py").run()
    app.button(key="runs_reopen").click().run()
    no_errors(app)
    app.switch_page("pages/1_Augment.py").run()
    no_errors(app)
    assert app.selectbox(key="aug_protocol").value == "cold-users"
    assert app.number_input(key=protocol_param_key("cold-users", "n")).value == 2
    assert app.number_input(key=protocol_param_key("cold-users", "share")).value == 0.2
    assert app.session_state["augment_config"]["protocol_params"] == {"n": 2}  # the run's own, not stale
    assert any("first 2 interactions" in c.value for c in app.caption)
    assert not [w for w in app.warning if "settings changed" in w.value]


def _row(replicate: str, **values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "model": "itemknn", "variant": "random", "metric": "ndcg", "k": 10, "baseline": 0.13, "augmented": 0.12,
        "delta": -0.01, "delta_pct": -7.0, "ci_low": -0.03, "ci_high": 0.01, "noise_floor": 0.01, "mde": 0.02,
        "q_ttest": 0.4, "n_seeds": 3, "n_users": 166, "primary": True, "verdict": "no clear difference",
        "replicate": replicate,
    }  # fmt: skip
    return {**base, **values}


def test_the_interval_says_what_it_is_over_per_row() -> None:
    table = pd.DataFrame([_row(AUGMENTATION_DRAW), _row(NOTHING, model="pop"), _row(NOTHING, ci_low=float("nan"))])
    shown = display_frame(table)
    assert shown["interval over"].tolist() == ["seeds (augmentation)", "test users", "–"]
    legend = interval_legend(table["replicate"])
    assert "*seeds (augmentation)*: over seeds (" in legend
    assert "*test users*: over test users, not seeds (" in legend
    assert "Intervals and tests are over seeds" not in legend
    assert interval_legend(pd.Series([SPLIT_AND_MODEL])).startswith("Intervals and tests are over seeds")
    assert set(INTERVAL_OVER) >= {SPLIT_AND_MODEL, AUGMENTATION_DRAW, NOTHING}


def test_the_cold_items_note_allows_any_method_that_adds_rows_on_cold_items() -> None:
    gained = pd.DataFrame([_row(SPLIT_AND_MODEL, model="bpr", baseline=0.0, augmented=0.0004)])
    note = never_ranked_note(gained, "cold-items")
    assert note is not None and "only a method" not in note
    assert "whole catalogue (`random`" in note and "similarity" in note


def test_fidelity_and_embeddings_say_why_they_are_empty_after_a_comparison(app: AppTest) -> None:
    """Walk 12: after a comparison both pages said "run a method first", as if the comparison had made nothing."""
    app.session_state["experiment"] = object()  # a comparison ran in this session
    for page in ("pages/4_Fidelity.py", "pages/2_Embeddings.py"):
        app.switch_page(page).run()
        text = " ".join(info.value for info in app.info)
        assert "keeps its synthetic rows inside its run" in text and "Run augmentation" in text, text
