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

    With a ``plan`` (one kind per step; every step is an equal share of the fraction, as the experiment's augment
    and fit steps are) each finished step is timed, and the time left is every remaining step priced at what steps
    of its kind took: in this run, else in earlier runs of this process. Steps may finish in any order (fits run in
    a pool): ``kind_of(message)`` names the kind that just finished (else the next one in the plan is assumed), and
    on a pool the time between completions is what a step costs in throughput, which is what the sum needs. A kind
    not timed yet is priced at the median of the kinds timed so far, so one slow step (an LLM step) counts once,
    not for every step after it. A running step that reports its own progress (LLM calls, text batches) is
    extrapolated from it; a step running longer than priced is given as long again as it has run, so the estimate
    never sits at "0 s left". Without a plan the estimate is linear: elapsed * (1 - f) / f. Nothing is shown
    before a second has passed, or while nothing has been timed.
    """

    def __init__(
        self,
        now: Callable[[], float] | None = None,
        *,
        plan: Sequence[str] | None = None,
        kind_of: Callable[[str], str | None] | None = None,
    ) -> None:
        import time

        self._now = now or time.monotonic
        self.started = self._now()
        self.plan = list(plan or [])
        self._left = list(self.plan)  # kinds not finished yet, in plan order
        self._kind_of = kind_of
        self._done, self._last = 0, self.started
        self._measured: dict[str, list[float]] = {}

    def elapsed(self) -> float:
        """Seconds since the clock started."""
        return self._now() - self.started

    def observe(self, fraction: float, message: str = "") -> None:
        """Record progress: the steps finished since the last call are timed (their time shared equally)."""
        if not self.plan:
            return
        done = min(max(int(min(max(fraction, 0.0), 1.0) * len(self.plan) + 1e-9), 0), len(self.plan))
        if done <= self._done:
            return
        now = self._now()
        seconds = (now - self._last) / (done - self._done)
        named = self._kind_of(message) if self._kind_of is not None else None
        for _ in range(done - self._done):
            kind = named if named in self._left else self._left[0]
            named = None  # one message names one step
            self._left.remove(kind)
            self._measured.setdefault(kind, []).append(seconds)
            with _HISTORY_LOCK:
                _STEP_HISTORY[kind] = seconds
        self._done, self._last = done, now

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
        if not self._left:
            return 0.0
        known = {kind: cost for kind in dict.fromkeys(self.plan) if (cost := self.cost(kind)) is not None}
        if not known:
            return None
        typical = statistics.median(known.values())
        since = self._now() - self._last  # time spent on the step(s) running now
        within = fraction * len(self.plan) - self._done  # progress the running step reported, 0..1
        first = known.get(self._left[0], typical)
        if within >= 0.05:  # the step reports its own progress: extrapolate it
            current = since * (1.0 - within) / within
        elif since < first:
            current = first - since
        else:  # slower than priced: it has run as long again as it has run so far, at least
            current = since
        total = current + sum(known.get(kind, typical) for kind in self._left[1:])
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
