"""The Augment page's LLM skill check: does the LLM know this data better than chance before it spends its budget?

One call on the page (``config = skill_panel(dataset, config)``): two checkboxes (check first; spend anyway) that
set ``min_skill`` / ``insist`` for every LLM method, a button that measures the check now, and the measured table
with its verdict; after a run, the check each LLM method ran. The measurement is :mod:`recaug.augment.llm.skill`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from recaug.augment.llm.llm_common import llm_augmenter_params
from recaug.augment.llm.skill import SKILL_COLUMNS, SkillReport, payoff_line
from recaug.augment.options import merge_params
from recaug.data.dataset import Dataset
from recaug.text.tuning_cost import TUNING
from ui.augment_tuning import tuning_costs_panel
from ui.errors import friendly_errors
from ui.state import AUGMENT_RESULTS, augment_preview, recalled, remember

CHECKED = "llm_skill_report"


def skill_panel(dataset: Dataset, config: dict[str, Any]) -> dict[str, Any]:
    """Draw the skill check for the LLM methods of ``config`` and return ``config`` with its settings applied."""
    methods = [name for name in config["augmenters"] if name.startswith("llm-")]
    if not methods:
        return config
    st.markdown("**Does the LLM know this data?** (skill check before spending)")
    left, right = st.columns(2)
    check = remember(
        "llm_skill_check",
        left.checkbox(
            "Check the LLM's skill first",
            recalled("llm_skill_check", True),
            key="llm_skill_check",
            help="Before any LLM call is spent: one training item per user (100 users) is held out and put among 9 "
            "random unseen items; the LLM must pick it more often than chance and at least as often as the "
            "sentence encoder the method uses (the packaged one, or the tuned one with encoder 'tuned'), or the "
            "LLM methods make no calls.",
        ),
    )
    insist = remember(
        "llm_insist",
        right.checkbox(
            "Spend anyway, even if it fails",
            recalled("llm_insist", False),
            key="llm_insist",
            disabled=not check,
            help="Run the LLM methods whatever the check says (the check is still measured and saved).",
        ),
    )
    settings = llm_augmenter_params(methods, min_skill="encoder" if check else "off", insist=bool(insist and check))
    config = {**config, "augmenter_params": merge_params(config["augmenter_params"], settings)}
    experiment = augment_preview(dataset, config)[0]
    if check and st.button("Check skill now", key="llm_skill_now", help="About 130 LLM calls on this backend."):
        from recaug.augment.llm.llm_estimate import check_llm_skill

        with friendly_errors("check the LLM's skill"), st.spinner("Scoring held-out training items..."):
            st.session_state[CHECKED] = (experiment.to_dict(), check_llm_skill(dataset, experiment))
    saved = st.session_state.get(CHECKED)
    if saved and saved[0] == experiment.to_dict() and saved[1] is not None:
        _show_report(saved[1])
    _show_run_checks()
    return config


def _show_report(report: SkillReport) -> None:
    """The table, the verdict (a warning when it fails) and where picks start to pay off."""
    st.dataframe(report.table[[*SKILL_COLUMNS, "calls"]], hide_index=True, width="stretch")
    (st.success if report.passed else st.warning)(report.verdict, icon=":material/psychology:")
    st.caption(
        f"Cost of the check: {report.calls} LLM calls, {report.seconds:.1f} s. "
        + payoff_line(float(report.row("llm")["hit_rate"]))
    )
    tuning_costs_panel({TUNING: report.tuning})  # the tuned encoder the check compared with, if it tuned one


def _show_run_checks() -> None:
    """The checks the last augmentation ran (one per LLM method that would have called the LLM)."""
    results = st.session_state.get(AUGMENT_RESULTS) or {}
    for name, result in results.items():
        info = result.info
        if not info.get("llm_skill"):
            continue
        outcome = "ran anyway (insisted)" if info.get("llm_insisted") else None
        if outcome is None:
            outcome = "spent its budget" if info.get("llm_skill_passed") else "made no LLM calls"
        with st.expander(f"Skill check of the last run: {name} {outcome}"):
            st.dataframe(pd.DataFrame(info["llm_skill"]), hide_index=True, width="stretch")
            st.caption(str(info.get("llm_skill_verdict", "")))
