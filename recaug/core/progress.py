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
from collections import Counter
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


def labelled(progress: ProgressFn, label: str) -> ProgressFn:
    """Prefix every message with ``label``: a step's own messages ('CFGAN epoch 6/60') do not say which arm or
    seed they belong to, and in a comparison the same messages repeat for every seed, which read as going back."""

    def report(fraction: float, message: str) -> None:
        progress(fraction, f"{label} — {message}" if message else label)

    return report


_STEP_HISTORY: dict[str, list[float]] = {}  # kind -> its latest replicate's step seconds, across runs in this process
_HISTORY_LOCK = threading.Lock()


class ProgressClock:
    """Estimates the time left from measured step costs, or from the fraction done when no plan is given.

    With a ``plan`` (one kind per step; every step is an equal share of the fraction, as the experiment's augment
    and fit steps are) each finished step is timed, and the time left is every remaining step priced at what the
    step in its place of the kind's latest replicate took (in this run, else in the last run of this process that
    timed the kind), less the time the running work has had since the last step finished. Steps may finish in any
    order (fits run in a pool): ``kind_of(message)`` names the kind that just finished (else the next one in the
    plan is assumed), and on a pool the time between completions is what a step costs in throughput, which is
    what the sum needs. ``warm_up``: the steps of one replicate (a seed); nothing is shown until their kinds have
    all been timed as often as they occur there: fits that run side by side finish together, so the first to
    finish carries the time of all of them, and an estimate from it alone climbed for minutes while the truth
    fell. A kind never timed is otherwise priced at the median of the kinds timed so far, so one slow step (an
    LLM step) counts once, not for every step after it. A running step that reports its own progress (LLM calls,
    text batches) is extrapolated from it; work running longer than priced is given a tenth as long again as it
    has run: never "0 s left", and no jump to minutes when a pool's last fits run a little slower than the
    earlier ones. Without a plan the estimate is linear: elapsed * (1 - f) / f. Nothing is shown before a second
    has passed, or while nothing has been timed.
    """

    def __init__(
        self,
        now: Callable[[], float] | None = None,
        *,
        plan: Sequence[str] | None = None,
        kind_of: Callable[[str], str | None] | None = None,
        warm_up: int = 0,
    ) -> None:
        import time

        self._now = now or time.monotonic
        self.started = self._now()
        self.plan = list(plan or [])
        self._left = list(self.plan)  # kinds not finished yet, in plan order
        self._kind_of = kind_of
        self._warm_up = Counter(self.plan[:warm_up])  # kind -> times it must be timed before anything is shown
        with _HISTORY_LOCK:  # earlier runs' costs, as they were when this run started
            self._history = dict(_STEP_HISTORY)
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
                _STEP_HISTORY[kind] = self._replicate(kind) or [seconds]
        self._done, self._last = done, now

    def _replicate(self, kind: str) -> list[float] | None:
        """What the kind's steps cost in its latest whole replicate (``warm_up`` counts them; one step without a
        warm-up), in the order they finished; an earlier run's while this one has none. Kept in order because on
        a pool the first fit of a pair to finish carries the time of both and the second costs seconds; and the
        latest replicate, because the first shares the cores with the workers' start and the next seeds' plans."""
        measured = self._measured.get(kind, [])
        size = max(1, self._warm_up.get(kind, 1))
        whole = len(measured) // size * size
        if whole:
            return measured[whole - size : whole]
        if kind in self._history:
            return self._history[kind]
        return measured or None

    def cost(self, kind: str) -> float | None:
        """Seconds one step of ``kind`` is expected to take (None when never timed): its latest replicate's mean."""
        replicate = self._replicate(kind)
        return statistics.fmean(replicate) if replicate else None

    def _left_cost(self, kinds: Sequence[str], typical: float) -> float:
        """The steps ``kinds`` (not finished), each priced by the step in the same place of the kind's latest
        replicate (the pair's second fit at what the second cost), a kind never timed at ``typical``."""
        total, upcoming = 0.0, Counter[str]()
        for kind in kinds:
            replicate = self._replicate(kind)
            if not replicate:
                total += typical
                continue
            place = len(self._measured.get(kind, [])) + upcoming[kind]
            upcoming[kind] += 1
            total += replicate[place % len(replicate)]
        return total

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
        untimed = [kind for kind, n in self._warm_up.items() if len(self._measured.get(kind, [])) < n]
        if any(kind not in self._history for kind in untimed):
            return None  # one replicate not timed yet (and no earlier run timed it)
        known = {kind: cost for kind in dict.fromkeys(self.plan) if (cost := self.cost(kind)) is not None}
        if not known:
            return None
        typical = statistics.median(known.values())
        since = self._now() - self._last  # time the running work has had since the last step finished
        within = fraction * len(self.plan) - self._done  # progress the running step reported, 0..1
        if 1e-9 < within < 0.05:  # it reports its own progress, too little yet to extrapolate: a price from another
            return None  # run of the kind (an LLM step answered from its cache there) would say "1 s left" here
        if within >= 0.05:  # the step reports its own progress: extrapolate it
            total = since * (1.0 - within) / within + self._left_cost(self._left[1:], typical)
        else:
            left = self._left_cost(self._left, typical)
            total = max(left - since, 0.1 * since)  # slower than priced: never 0 s, nor a jump to minutes
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
    if fraction >= 1.0:
        eta = "done"  # not "estimating" at the end of a step that reported nothing to time
    return f"[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} · {eta} · {message}"
