"""Adapt recaug's ``progress(fraction, message)`` callback to ``st.progress``."""

from __future__ import annotations

import time

import streamlit as st

from recaug.core.progress import ProgressClock, ProgressFn, describe_progress


def streamlit_progress(label: str) -> tuple[ProgressFn, st.delta_generator.DeltaGenerator]:
    """A callback that updates one progress bar (throttled to ~10 updates/s) and the bar itself."""
    bar = st.progress(0.0, text=label)
    last = [0.0]
    clock = ProgressClock()  # the time left is estimated from the fraction done (shown after a second)

    def report(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] < 0.1 and fraction < 1.0:
            return
        last[0] = now
        text = describe_progress(fraction, message, clock.remaining(fraction))
        bar.progress(min(max(fraction, 0.0), 1.0), text=f"{label} — {text}")

    return report, bar
