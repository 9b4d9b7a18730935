"""Walk 12: the Augment page's "Check skill now" ran for minutes behind a bare spinner (no count, no time, no
Stop), never said how the server scored options, and showed a check whose calls had all timed out as "the LLM is
not better than chance". Here the check runs as a job with a counted bar, and its failures and scoring mode show."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from recaug.augment.llm.skill import CHANCE, ENCODER, LLM, POPULARITY, SkillReport, judge
from tests.app.conftest import REPO, no_errors

CALLS: list[Any] = []  # the progress callback each check was given


def failed_report() -> SkillReport:
    """41 of 70 users' calls timed out: what walk 12's slow server gave."""
    rows = [(LLM, 0.04, 0.0, 0.1, 41), (ENCODER, 0.3, 0.2, 0.4, 0), (POPULARITY, 0.4, 0.3, 0.5, 0)]
    rows.append((CHANCE, 0.1, 0.1, 0.1, 0))
    table = pd.DataFrame(rows, columns=["scorer", "hit_rate", "ci_low", "ci_high", "failed"])
    table = table.assign(chance=0.1, n_users=70)
    label = "openai LLM smollm2-stub@http://127.0.0.1:1/v1"
    passed, verdict = judge(table, "encoder", label, failures="timeout")
    scoring = "logprobs: prompt log-probabilities (each option's own likelihood)"
    return SkillReport(table, passed, verdict, label, 87, 182.0, failed=41, failures="timeout", scoring=scoring)


def fake_check(dataset: Any, config: Any, progress: Any = None) -> SkillReport:
    CALLS.append(progress)
    if progress is not None:
        progress(0.5, "skill check: 35/70 users scored")
    return failed_report()


def page() -> None:
    from recaug.data.loading import load_dataset
    from ui.skill_view import skill_panel
    from ui.state import _default_settings

    dataset, _ = load_dataset("ml-100k")
    skill_panel(dataset, {**_default_settings(dataset), "augmenters": ["llm-interactions"]})


def run_panel() -> None:
    import streamlit as st

    from ui.skill_view import run_skill_panel

    run_skill_panel(st.session_state["info"])


@pytest.fixture()
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    from recaug.augment.llm import llm_estimate

    monkeypatch.chdir(REPO)
    monkeypatch.setattr(llm_estimate, "check_llm_skill", fake_check)
    CALLS.clear()


def test_check_skill_now_is_a_job_and_shows_failures_and_scoring(patched: None) -> None:
    app = AppTest.from_function(page, default_timeout=120).run()
    no_errors(app)
    app.button(key="llm_skill_now").click().run()
    no_errors(app)
    assert len(CALLS) == 1 and callable(CALLS[0]), "the check reports progress (a job's bar, with Stop)"
    warning = " ".join(w.value for w in app.warning)
    assert "could not be measured: 41 of 70 users' LLM calls failed (timeout)" in warning
    assert "not better than chance" not in warning
    table = next(d.value for d in app.dataframe if "scorer" in d.value.columns).set_index("scorer")
    assert table.loc["LLM", "calls failed"] == "41 users" and table.loc["chance", "calls failed"] == ""
    caption = next(c.value for c in app.caption if c.value.startswith("Cost of the check:"))
    assert "41 users' calls failed (timeout)" in caption
    assert "Options scored by logprobs: prompt log-probabilities" in caption
    assert "pay off" not in caption, "no payoff line for a check that measured nothing"


def test_a_run_whose_check_could_not_be_measured_says_so(patched: None) -> None:
    info = {**failed_report().info(), "llm_insisted": False}
    app = AppTest.from_function(run_panel, default_timeout=60)
    app.session_state["info"] = info
    app.run()
    no_errors(app)
    caption = " ".join(c.value for c in app.caption)
    assert "could not be measured and the run spent no LLM call" in caption
    assert "The LLM failed" not in caption
    assert np.isclose(info["llm_skill"][0]["failed"], 41)
