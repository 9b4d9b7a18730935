"""Numbers as display text: ``st.dataframe`` draws missing values as "None" whatever a Styler's ``na_rep`` says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

Formatter = Callable[[float], str]
MISSING = "–"


def as_text(frame: pd.DataFrame, formats: dict[str, Formatter]) -> pd.DataFrame:
    """A copy whose ``formats`` columns are text: each value formatted, missing ones as a dash."""
    shown = frame.copy()
    for column, formatter in formats.items():
        if column in shown.columns:
            values = pd.to_numeric(shown[column], errors="coerce")
            shown[column] = [MISSING if pd.isna(v) else formatter(float(v)) for v in values]
    return shown


def right_aligned(columns: list[str]) -> dict[str, Any]:
    """Column config that keeps formatted numbers right-aligned like numbers."""
    return {column: st.column_config.TextColumn(column, alignment="right") for column in columns}
