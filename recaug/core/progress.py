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


class ProgressClock:
    """Estimates the time left from the overall fraction done: elapsed * (1 - f) / f.

    A linear estimate is honest about what it knows: it is shown only after a second and 1% of the work,
    and the named step in the message says what is running now.
    """

    def __init__(self, now: Callable[[], float] | None = None) -> None:
        import time

        self._now = now or time.monotonic
        self.started = self._now()

    def elapsed(self) -> float:
        """Seconds since the clock started."""
        return self._now() - self.started

    def remaining(self, fraction: float) -> float | None:
        """Seconds left at ``fraction`` done, or None while too little is known."""
        elapsed = self.elapsed()
        if fraction < 0.01 or elapsed < 1.0:
            return None
        return elapsed * (1.0 - min(fraction, 1.0)) / fraction


def format_duration(seconds: float) -> str:
    """'8 s', '3 min 05 s', '1 h 04 min'."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def describe_progress(fraction: float, message: str, remaining: float | None) -> str:
    """'seed 0: fitting bpr on baseline · about 1 min 10 s left' (no estimate while there is none)."""
    return message if remaining is None else f"{message} · about {format_duration(remaining)} left"


def render_bar(fraction: float, message: str, remaining: float | None, width: int = 24) -> str:
    """One terminal line: '[#########.......]  42% · 1 min 10 s left · seed 0: fitting bpr on baseline'."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(width * fraction)
    eta = "estimating" if remaining is None else f"{format_duration(remaining)} left"
    return f"[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} · {eta} · {message}"
