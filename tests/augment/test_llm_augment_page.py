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


def test_a_failed_skill_check_shows_its_skill_cost_and_the_checkbox_that_overrides_it(
    llm_home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The check is on by default and decides whether a run spends. A user saw "no LLM call was spent (insist to
    run it anyway)", "Time 0.0 s" and "calls 0" after a 123-call, 45 s check, the skill only in the raw JSON,
    and, insisting, "the cap (60) stopped it after 45 calls"."""
    from recaug.augment.llm import skill as skill_module

    monkeypatch.setattr(skill_module, "_CACHE", {})  # measured by this run, not reused from another test's check
    app = augment_page(monkeypatch, tmp_path, "llm-interactions")
    assert app.checkbox(key="llm_skill_check").value, "the check is on by default"
    app.number_input(key="llm_max_calls").set_value(60).run()
    app.button(key="run_augment").click().run()
    no_errors(app)
    info = app.session_state[AUGMENT_RESULTS]["llm-interactions"].info
    assert not info["llm_skill_passed"], "the packaged 135M model is at chance on ML-100k (README)"
    warning = " ".join(w.value for w in app.warning)
    assert f"failed the skill check ({info['skill_calls']:,} LLM calls in" in warning and "skill_cached" not in info
    assert "no LLM call was spent on augmentation" in warning and "no LLM call was spent (" not in warning
    assert 'tick "Spend anyway, even if it fails"' in warning and "insist" not in warning
    assert app.checkbox(key="llm_insist").label == "Spend anyway, even if it fails"  # the box the text names
    cards = {m.label: m for m in app.metric}
    assert cards["skill-check calls"].value == f"{info['skill_calls']:,}" and info["skill_calls"] >= 100
    assert cards["LLM calls"].value == "0"
    assert float(cards["Time"].value.removesuffix(" s")) >= info["skill_seconds"] - 0.05 > 1.0
    assert "skill check" in cards["Time"].help
    # The measured skill next to the result, readable: the LLM against chance and the free baselines.
    heading = next(m for m in app.markdown if "Skill check before spending" in m.value)
    assert "100 users" in heading.value and "held-out training item" in heading.value and heading.help
    skill = next(d.value for d in app.dataframe if "scorer" in d.value.columns).set_index("scorer")
    assert list(skill.index) == ["LLM", "sentence encoder (free)", "popularity (free)", "chance"]
    assert skill.loc["chance", "picked the held-out item"] == "10.0%" and (skill["held-out items"] == 100).all()
    assert any(c.value.startswith("Cost of the check:") and "spent no LLM call" in c.value for c in app.caption)
    assert any("paid off" in c.value or "pay off" in c.value for c in app.caption), "the skill dial's line"

    # "Check skill now" shows the same check, read the same way, without measuring it again.
    app.button(key="llm_skill_now").click().run()
    no_errors(app)
    tables = [d.value for d in app.dataframe if "scorer" in d.value.columns]
    assert len(tables) == 2 and all(t.equals(tables[0]) for t in tables), "one readable table before and after"
    costs = [c.value for c in app.caption if c.value.startswith("Cost of the check:")]
    assert any(c.startswith(f"Cost of the check: {info['skill_calls']:,} LLM calls in ") for c in costs), costs
    assert any("reused from the check measured earlier, no new LLM calls" in c for c in costs), costs

    app.checkbox(key="llm_insist").check().run()
    app.button(key="run_augment").click().run()
    no_errors(app)
    info = app.session_state[AUGMENT_RESULTS]["llm-interactions"].info
    assert info["llm_insisted"] and 0 < info["calls"] <= 60
    warning = " ".join(w.value for w in app.warning)
    assert "stopped it after" not in warning
    prompted = f"left room to prompt only {info['users_prompted']:,} of {info['users_targeted']:,} targeted users"
    assert f"LLM-call cap (60) {prompted} ({info['calls']:,} calls made" in warning
    assert {m.label: m.value for m in app.metric}["LLM calls"] == f"{info['calls']:,}"
    # The same check was reused, so this run claims none of its calls or seconds.
    assert info["skill_cached"] and {m.label: m.value for m in app.metric}["skill-check calls"] == "0"
    assert any("reused from the check measured earlier" in c.value for c in app.caption)
