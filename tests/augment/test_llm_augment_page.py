"""The Augment page with the REAL packaged LLM: cost estimate before running, call cap, budget warning, polarity."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import REPO, no_errors
from tests.servers.llm_fixtures import llm_home  # noqa: F401  (fixture)
from ui.state import AUGMENT_RESULTS


def augment_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, method: str) -> AppTest:
    """The real app on the Augment page with ``method`` chosen, runs saved under ``tmp_path``, no warm-up."""
    monkeypatch.setenv("RECAUG_NO_WARMUP", "1")
    monkeypatch.setenv("RECAUG_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.chdir(REPO)
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
    app.switch_page("pages/1_Augment.py").run()
    return app.multiselect(key="aug_methods").set_value([method]).run()


def test_llm_estimate_cap_and_unfilled_budget_are_shown(
    llm_home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    app = augment_page(monkeypatch, tmp_path, "llm-interactions")
    app.checkbox(key="llm_skill_check").uncheck().run()  # this test is about the cap (the check has its own)
    app.number_input(key="llm_max_calls").set_value(6).run()
    app.checkbox(key="aug_param:llm-interactions:negatives").check().run()  # off by default
    no_errors(app)
    app.button(key="estimate_llm").click().run()
    no_errors(app)
    estimate = " ".join(i.value for i in app.info)
    # 246 light users (one call each; RecBole-style split counts) and 52 calibration calls (the training titles).
    assert "llm-interactions: about 6 LLM calls (cap 6; 298 would cover every targeted user or item)" in estimate
    assert "measured on" in estimate
    app.button(key="run_augment").click().run()
    no_errors(app)
    warnings = " ".join(w.value for w in app.warning)
    assert "budget not reached" in warnings and "LLM-call cap (6)" in warnings
    preview = app.dataframe[0].value
    assert "polarity" in preview.columns and set(preview["polarity"]) <= {1, -1}
    assert (preview["polarity"] == 1).sum() <= 4 * 5  # 4 users and their calibration calls fit, 5 picks each


def test_llm_init_shows_start_vectors_instead_of_rows(
    llm_home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    app = augment_page(monkeypatch, tmp_path, "llm-init")
    app.checkbox(key="llm_skill_check").uncheck().run()
    # The LLM settings set the item noun (and cap, timeout, batch) once; the method's own form does not repeat them.
    assert app.text_input(key="llm_item_noun:ml-100k").value == "movie"
    keys = {widget.key for widget in [*app.text_input, *app.number_input]}
    assert "aug_param:llm-init:max_items" in keys
    assert not keys & {f"aug_param:llm-init:{name}" for name in ("item_noun", "max_calls", "timeout", "batch_size")}
    app.number_input(key="llm_max_calls").set_value(2).run()
    app.button(key="run_augment").click().run()
    no_errors(app)
    assert not app.warning, "no 'budget not reached' warning for a method that adds no rows"
    info = " ".join(i.value for i in app.info)
    assert "llm-init adds no rows" in info and "bpr" in info and "lightgcn" in info
    assert "2 of them LLM-enriched" in info
    enriched = app.dataframe[0].value
    assert len(enriched) == 2 and {"title", "keywords", "enriched_text"} <= set(enriched.columns)
    log = app.session_state[AUGMENT_RESULTS]["llm-init"].log
    assert log["prompt"].str.startswith("Movie: ").all(), "MovieLens prompts call an item a movie"
    time_card = next(m for m in app.metric if m.label == "Time")
    assert "fitting the augmenter" in time_card.help
    app.switch_page("pages/4_Fidelity.py").run()
    no_errors(app)
    assert any("llm-init adds no rows" in i.value for i in app.info)


def test_skill_check_is_shown_and_decides_whether_the_run_spends(
    llm_home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    app = augment_page(monkeypatch, tmp_path, "llm-interactions")
    assert app.checkbox(key="llm_skill_check").value, "the check is on by default"
    app.number_input(key="llm_max_calls").set_value(20).run()
    app.button(key="llm_skill_now").click().run()
    no_errors(app)
    table = app.dataframe[0].value.set_index("scorer")
    assert list(table.index) == ["llm", "encoder", "popularity", "chance"]
    assert table.loc["chance", "hit_rate"] == 0.1 and (table["n_users"] == 100).all()
    assert table.loc["llm", "calls"] >= 100  # one call per user, plus the PMI calibration
    assert any("paid off" in c.value or "pay off" in c.value for c in app.caption), "the skill dial's line"
    verdict = " ".join(m.value for m in [*app.success, *app.warning])
    passed = "passes the skill check" in verdict
    assert passed or "not better than chance" in verdict or "worse than the free encoder" in verdict
    app.button(key="run_augment").click().run()
    no_errors(app)
    info = app.session_state[AUGMENT_RESULTS]["llm-interactions"].info
    assert info["llm_skill_passed"] == passed, "the run used the check shown, not a second one"
    assert (info["calls"] > 0) == passed, "a failed check spends nothing; a passed one spends"
    if not passed:
        assert any("failed the skill check" in w.value for w in app.warning)
