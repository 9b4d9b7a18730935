"""The Augment page's LLM skill check: does the LLM know this data better than chance before it spends its budget?

One call on the page (``config = skill_panel(dataset, config)``): two checkboxes (check first; spend anyway) that
set ``min_skill`` / ``insist`` for every LLM method, a button that measures the check now, and the measured table
with its verdict. After a run, :func:`run_skill_panel` shows the check each LLM method ran next to its result. The
measurement is :mod:`recaug.augment.llm.skill`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pandas as pd
import streamlit as st

from recaug.augment.llm.llm_common import llm_augmenter_params, skill_cost_phrase
from recaug.augment.llm.skill import (
    CHANCE,
    ENCODER,
    LLM,
    OWN_ENCODER,
    POPULARITY,
    TUNED_ENCODER,
    SkillReport,
    payoff_line,
)
from recaug.augment.options import merge_params
from recaug.core.progress import Cancelled
from recaug.data.dataset import Dataset
from recaug.text.tuning_cost import TUNING
from ui.augment_tuning import tuning_costs_panel
from ui.errors import friendly_errors
from ui.jobs import is_running, run_blocking, stop_text
from ui.state import augment_preview, recalled, remember

if TYPE_CHECKING:
    from recaug.experiment import ExperimentConfig

CHECKED = "llm_skill_report"
SKILL_JOB = "llm_skill"  # the job kind of "Check skill now" (ui.jobs)
INSIST_LABEL = "Spend anyway, even if it fails"
# How the page's messages name the override of a failed check: the checkbox as the user sees it.
INSIST_HINT = f'tick "{INSIST_LABEL}" under "Does the LLM know this data?" to spend anyway'
SCORER_NAMES = {
    LLM: "LLM",
    ENCODER: "sentence encoder (free)",
    TUNED_ENCODER: "tuned encoder",
    OWN_ENCODER: "the run's encoder",
    POPULARITY: "popularity (free)",
    CHANCE: "chance",
}
SKILL_HELP = (
    "Measured on the training split only (validation and test are never used): each of these users lost one "
    "training item (their latest, when the data has times), which was put among 9 random items the user had not "
    "seen; every scorer picked one of the 10. The hit rate is how often its pick was the held-out item, the "
    "interval a 95% bootstrap interval over users. An LLM no better than chance, or below the free sentence "
    "encoder, is not worth its calls."
)


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
            INSIST_LABEL,
            recalled("llm_insist", False),
            key="llm_insist",
            disabled=not check,
            help="Run the LLM methods whatever the check says (the check is still measured and saved).",
        ),
    )
    settings = llm_augmenter_params(methods, min_skill="encoder" if check else "off", insist=bool(insist and check))
    config = {**config, "augmenter_params": merge_params(config["augmenter_params"], settings)}
    experiment = augment_preview(dataset, config)[0]
    if check and st.button(
        "Check skill now",
        key="llm_skill_now",
        disabled=is_running(SKILL_JOB),
        help="One LLM call per held-out user (up to 100) plus calibration calls (each candidate title scored "
        "without a history); answers already in the response cache cost nothing. Shows progress; Stop ends it.",
    ):
        with friendly_errors("check the LLM's skill"):
            measured = _run_check(dataset, experiment)
            if measured is not None:
                st.session_state[CHECKED] = (experiment.to_dict(), measured)
    saved = st.session_state.get(CHECKED)
    if saved and saved[0] == experiment.to_dict() and saved[1] is not None:
        _show_report(saved[1])
    return config


def _run_check(dataset: Dataset, experiment: ExperimentConfig) -> SkillReport | None:
    """The check as a stoppable job with a counted progress bar (a bare spinner for minutes before); its report,
    or None when stopped (the stop is said)."""
    from recaug.augment.llm.llm_estimate import check_llm_skill

    job = run_blocking(
        SKILL_JOB,
        "Checking the LLM's skill",
        lambda progress: check_llm_skill(dataset, experiment, progress=progress),
    )
    if isinstance(job.error, Cancelled):
        st.info(stop_text(job), icon=":material/stop_circle:")
        return None
    if job.error is not None:
        raise job.error
    return cast("SkillReport | None", job.value)


def _show_report(report: SkillReport) -> None:
    """The table, the verdict (a warning when it fails) and where picks start to pay off."""
    _skill_table(report.table)
    (st.success if report.passed else st.warning)(report.verdict, icon=":material/psychology:")
    payoff = payoff_line(float(report.row("llm")["hit_rate"])) if report.measured else ""
    st.caption(f"Cost of the check: {skill_cost_phrase(report.info())}.{_scored_by(report.scoring)} {payoff}")
    tuning_costs_panel({TUNING: report.tuning})  # the tuned encoder the check compared with, if it tuned one


def run_skill_panel(info: dict[str, Any]) -> None:
    """The skill check a finished LLM run measured, next to its result: the LLM against chance and the free
    baselines, how many held-out training items it was measured on, what the check cost and what it decided."""
    rows = info.get("llm_skill")
    if not rows:
        return
    table = pd.DataFrame(rows)
    _skill_table(table)
    if info.get("llm_skill_measured") is False:
        outcome = "Most of the check's LLM calls failed, so the LLM's skill could not be measured" + (
            ", but you chose to spend anyway." if info.get("llm_insisted") else " and the run spent no LLM call."
        )
    elif info.get("llm_skill_passed"):
        outcome = "The LLM passed, so the run spent its calls."
    elif info.get("llm_insisted"):
        outcome = "The LLM failed, but you chose to spend anyway."
    else:
        outcome = "The LLM failed, so the run spent no LLM call on augmentation."
    llm = table.loc[table["scorer"] == LLM, "hit_rate"]
    payoff = f" {payoff_line(float(llm.iloc[0]))}" if len(llm) else ""
    scored = _scored_by(str(info.get("skill_scoring", "")))
    st.caption(f"Cost of the check: {skill_cost_phrase(info)}.{scored} {outcome}{payoff}", help=SKILL_HELP)


def _scored_by(scoring: str) -> str:
    """How the backend scored the options (a server's probed mode), as a sentence; '' when unknown."""
    return f" Options scored by {scoring}." if scoring else ""


def _skill_table(table: pd.DataFrame) -> None:
    """The measured check as a reader sees it, before a run and after one alike: scorers by plain name, hit rates
    as percentages with their interval, and how many held-out training items they were measured on."""
    users, candidates = int(table["n_users"].max()), round(1 / float(table["chance"].iloc[0]))
    st.markdown(
        f"**Skill check before spending** — how often each scorer picked a user's held-out training item "
        f"({users:,} users, one item each, among {candidates:,} candidates)",
        help=SKILL_HELP,
    )
    shown = pd.DataFrame(
        {
            "scorer": [SCORER_NAMES.get(str(r), str(r)) for r in table["scorer"]],
            "picked the held-out item": [f"{v:.1%}" for v in table["hit_rate"]],
            "95% interval": [
                f"1 in {candidates} by luck" if r == CHANCE else f"{lo:.1%} – {hi:.1%}"
                for r, lo, hi in zip(table["scorer"], table["ci_low"], table["ci_high"], strict=True)
            ],
            "held-out items": table["n_users"].astype(int),
        }
    )
    failed = pd.to_numeric(table["failed"], errors="coerce").fillna(0) if "failed" in table else None
    if failed is not None and failed.any():  # failed calls count as misses: say how many, on the LLM's row
        pairs = zip(table["scorer"], failed, strict=True)
        shown["calls failed"] = [f"{int(n):,} users" if r == LLM else "" for r, n in pairs]
    st.dataframe(
        shown,
        hide_index=True,
        width="content",
        column_config={
            "scorer": st.column_config.TextColumn(help="LLM: the configured model; the others are free baselines"),
            "picked the held-out item": st.column_config.TextColumn(
                help="hit rate: share of users whose held-out "
                "training item was the scorer's top pick among the candidates (ties share the hit)"
            ),
            "95% interval": st.column_config.TextColumn(help="bootstrap interval over users"),
            "held-out items": st.column_config.NumberColumn(help="users measured, one held-out training item each"),
            "calls failed": st.column_config.TextColumn(
                help="users whose LLM calls failed (timeout, server error): counted as misses; when more than half "
                "failed the check gives no verdict"
            ),
        },
    )
