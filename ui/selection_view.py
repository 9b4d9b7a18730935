"""What validation chose (selection.csv) as the Compare and Runs pages show it: the notes and the download."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import streamlit as st

from recaug.reporting.export import SELECTION_FILE, to_csv_bytes
from ui.escape import markdown_prose


def info_notes(notes: Iterable[str]) -> None:
    """One info caption per note (``model_use_notes`` on Compare, ``run_choice_notes`` on Runs)."""
    for note in notes:
        st.caption(":material/info: " + markdown_prose(note))


def chosen_download(chosen: pd.DataFrame | None, *, key: str, file_name: str = SELECTION_FILE) -> None:
    """The "Chosen on validation (CSV)" button: per model, arm and seed what validation chose (the same rules for
    every arm); nothing when no model chose anything or the run did not record it."""
    if chosen is None or not len(chosen):
        return
    st.download_button(
        "Chosen on validation (CSV)",
        to_csv_bytes(chosen),
        file_name,
        "text/csv",
        key=key,
        help="Per model, arm and seed: the epoch, iteration or grid point validation chose and its validation "
        "NDCG@10, as the CLI writes selection.csv.",
    )
