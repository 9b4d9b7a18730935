"""The A/A control's outcome on the Compare page, in words.

The control (the baseline refitted with fresh seeds) is a check of the test, not an arm: its rows stay out of the
table and the Δ chart, so without this note its result was only in significance.csv. A deterministic model refits
identically ("no change in any seed"), which checks nothing; the note says so rather than reassure.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recaug.evaluate.significance import AAControlSummary, aa_control_summary
from ui.escape import markdown_text


def _names(models: tuple[str, ...]) -> str:
    """'pop', 'pop and itemknn', 'pop, itemknn and ease' (markdown-safe)."""
    shown = [markdown_text(m) for m in models]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _note(summary: AAControlSummary, slice_name: str) -> str:
    where = "" if summary.slice == slice_name else f" on slice {markdown_text(summary.slice)}, where it is judged"
    parts = [f"**A/A control** (the baseline refitted with fresh seeds){where}:"]
    if summary.noisy_models and summary.rows:
        outcome = (
            ": calibrated (two fits that differ only in their seed were not told apart)"
            if summary.different == 0
            else ", though the fits differ only in their seed: the noise is larger than the test assumes; treat "
            "verdicts with care"
        )
        parts.append(
            f"{summary.different} of {summary.rows} primary rows of {_names(summary.noisy_models)} judged different "
            f"from the baseline{outcome}."
        )
    if summary.constant_models:
        them = _names(summary.constant_models)
        verb = "is" if len(summary.constant_models) == 1 else "are"
        says = (
            f"it does for {_names(summary.noisy_models)}."
            if summary.noisy_models
            else "only a model whose fit depends on its seed (such as bpr) checks calibration."
        )
        parts.append(
            f"{them} {verb} deterministic: the refit with fresh seeds is identical (every A/A row: no change in any "
            f"seed), so the control says nothing about calibration for {them}; {says}"
        )
    return " ".join(parts)


def aa_control_note(significance: pd.DataFrame | None, slice_name: str) -> str | None:
    """The A/A control's outcome for ``slice_name`` as one markdown paragraph; None when the run has no control."""
    summary = aa_control_summary(significance, slice_name)
    return None if summary is None else _note(summary, slice_name)


def show_aa_control(significance: pd.DataFrame | None, slice_name: str) -> None:
    """Draw the note: a warning when the control flags a difference or tests nothing, else an info box."""
    summary = aa_control_summary(significance, slice_name)
    if summary is None:
        return
    note = _note(summary, slice_name)
    if summary.different or not summary.rows:
        st.warning(note, icon=":material/balance:")
    else:
        st.info(note, icon=":material/balance:")
