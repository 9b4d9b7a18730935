"""Progress reporting as a plain callback, so compute never prints or imports a UI; and how long work is stopped.

Compute takes ``progress(fraction, message)``. A caller that wants to stop the work makes its callback raise
:class:`Cancelled`; compute lets it propagate, and the loops that own finished parts (seeds, methods) attach them
to it on the way out, so a stop keeps what was done. Code deep inside a step that has no callback passed to it
(model conversion, text encoding) says what it is doing with :func:`note`, which reaches the callback installed
by :func:`reporting` for this thread, and is also a point where a stop takes effect.
"""

from __future__ import annotations

import math
import statistics
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

ProgressFn = Callable[[float, str], None]
NoteFn = Callable[[str], None]


class Cancelled(BaseException):
    """The work was stopped on request. A BaseException, so handlers of ordinary errors (a failing metric, a
    retried request) never swallow it.

    ``partial`` is what was finished before the stop, attached by the loop that owns it (finished seeds as an
    ExperimentResult, finished methods as a dict of AugmentResults); None when nothing was finished.
    """

    def __init__(self, reason: str = "stopped") -> None:
        super().__init__(reason)
        self.reason = reason
        self.partial: Any = None


_NOTE: ContextVar[NoteFn | None] = ContextVar("recaug_progress_note", default=None)


@contextmanager
def reporting(note_fn: NoteFn) -> Iterator[None]:
    """Send :func:`note` calls made in this thread (and context) to ``note_fn`` while the block runs."""
    token = _NOTE.set(note_fn)
    try:
        yield
    finally:
        _NOTE.reset(token)


def note(message: str) -> None:
    """Say what is happening inside the current step, e.g. 'converting the packaged LLM once (about 70 s)'.

    Does nothing unless a caller installed :func:`reporting`; may raise :class:`Cancelled` when a stop was asked.
    """
    sink = _NOTE.get()
    if sink is not None:
        sink(message)


def no_progress(fraction: float, message: str) -> None:
    """Default callback: ignore progress."""


def sub_progress(progress: ProgressFn | None, start: float, end: float) -> ProgressFn:
    """Map a child's 0..1 progress into the parent's [start, end] range."""
    parent = progress or no_progress

    def report(fraction: float, message: str) -> None:
        clipped = min(max(fraction, 0.0), 1.0)
        parent(start + (end - start) * clipped, message)

    return report


_STEP_HISTORY: dict[str, float] = {}  # kind -> seconds of its last measured step, across runs in this process
_HISTORY_LOCK = threading.Lock()


class ProgressClock:
    """Estimates the time left from measured step costs, or from the fraction done when no plan is given.

    With a ``plan`` (one kind per step; the steps share the fraction range equally, as the experiment's seed and
    fit steps do) each finished step's seconds are measured, and the time left is the current step's rest plus
    each remaining step priced at what steps of its kind took: in this run, else in earlier runs of this process.
    A kind not timed yet is priced at the median of the kinds timed so far, so one slow step (an LLM step) counts
    once, not for every step after it. A step that reports its own progress (LLM calls, text batches) is
    extrapolated from it; one running longer than its kind did before is given as long again as it has run, so
    the estimate never sits at "0 s left". Without a plan the estimate is linear: elapsed * (1 - f) / f.
    Nothing is shown before a second has passed, or while nothing has been timed.
    """

    def __init__(self, now: Callable[[], float] | None = None, *, plan: Sequence[str] | None = None) -> None:
        import time

        self._now = now or time.monotonic
        self.started = self._now()
        self.plan = list(plan or [])
        self._step, self._step_started = 0, self.started
        self._measured: dict[str, list[float]] = {}

    def elapsed(self) -> float:
        """Seconds since the clock started."""
        return self._now() - self.started

    def _index(self, fraction: float) -> int:
        return min(max(int(fraction * len(self.plan) + 1e-9), 0), len(self.plan) - 1)

    def observe(self, fraction: float) -> None:
        """Record progress: a step that ended since the last call is timed (steps jumped over are not)."""
        if not self.plan:
            return
        index, now = self._index(min(max(fraction, 0.0), 1.0)), self._now()
        if fraction >= 1.0 and index == len(self.plan) - 1:
            index = len(self.plan)  # the last step ended too
        if index > self._step:
            kind = self.plan[self._step]
            seconds = now - self._step_started
            self._measured.setdefault(kind, []).append(seconds)
            with _HISTORY_LOCK:
                _STEP_HISTORY[kind] = seconds
            self._step, self._step_started = index, now

    def cost(self, kind: str) -> float | None:
        """Seconds one step of ``kind`` is expected to take (None when never timed)."""
        if kind in self._measured:
            return statistics.fmean(self._measured[kind])
        return _STEP_HISTORY.get(kind)

    def remaining(self, fraction: float) -> float | None:
        """Seconds left at ``fraction`` done, or None while too little is known."""
        elapsed = self.elapsed()
        fraction = min(max(fraction, 0.0), 1.0)
        if elapsed < 1.0:
            return None
        if not self.plan:
            return None if fraction < 0.01 else elapsed * (1.0 - fraction) / fraction
        self.observe(fraction)
        if self._step >= len(self.plan):
            return 0.0
        known = {kind: cost for kind in dict.fromkeys(self.plan) if (cost := self.cost(kind)) is not None}
        if not known:
            return None
        typical = statistics.median(known.values())
        in_step = self._now() - self._step_started
        done_in_step = fraction * len(self.plan) - self._step  # progress inside the current step, 0..1
        expected = known.get(self.plan[self._step], typical)
        if done_in_step >= 0.05:  # the step reports its own progress: extrapolate it
            current = in_step * (1.0 - done_in_step) / done_in_step
        elif in_step < expected:
            current = expected - in_step
        else:  # slower than before: it has run as long again as it has run so far, at least (never "0 s left")
            current = in_step
        rest = sum(known.get(kind, typical) for kind in self.plan[self._step + 1 :])
        total = current + rest
        return total if math.isfinite(total) else None


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
