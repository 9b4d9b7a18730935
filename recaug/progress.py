"""Progress reporting as a plain callback, so compute never prints or imports a UI."""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """Default callback: ignore progress."""


def sub_progress(progress: ProgressFn | None, start: float, end: float) -> ProgressFn:
    """Map a child's 0..1 progress into the parent's [start, end] range."""
    parent = progress or no_progress

    def report(fraction: float, message: str) -> None:
        clipped = min(max(fraction, 0.0), 1.0)
        parent(start + (end - start) * clipped, message)

    return report
