"""Long work (an augmentation, a comparison, an LLM estimate) in a worker thread, with a Stop button.

Why a thread: Streamlit runs the page script in one thread, and a click during a run (``runner.fastReruns``)
stops that script at its next ``st`` call and starts a new run at once. Work done inside the script is therefore
lost on any click, and a Stop button's click could never reach it. Here the work runs in its own thread and each
script run only *watches* it: draws the progress bar, offers Stop, and takes the outcome when it is done. A click
(or leaving the page) interrupts the watching, never the work; Stop sets a flag that the work's progress callback
turns into :class:`recaug.core.progress.Cancelled` at its next step, and the loops that own finished seeds or
methods attach them to it, so a stop keeps them.

Work that must do something slow before its first step (start a Ray head) wraps it in :func:`before_steps`: the
bar names it with no time left, and the job's clock starts afresh when it ends, so its seconds are not priced as a
step's and an earlier run's step costs are not counted down while it lasts.

A job outlives its session: a browser refresh starts a new session, whose URL names the jobs the old one had not
taken (``open_job_ids``), and :func:`attach_jobs` hands them to it, so the bar comes back and the outcome is shown
there. Work therefore never writes ``st.session_state`` (the old session's would raise once it is gone): it
returns what the page keeps, and the watching script keeps it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from recaug.core.progress import Cancelled, ProgressClock, ProgressFn, describe_progress, reporting
from ui.escape import markdown_prose

logger = logging.getLogger("recaug.ui")

POLL_S = 0.25  # how often a watching script redraws the bar (cheap: one small message)
STOPPED_BY_YOU = "stopped by you"
KEPT_FINISHED = 8  # finished jobs no session has taken yet, kept for a refresh at most (the newest)


@dataclass
class Job:
    """One piece of long work and what it has said so far; written by its thread, read by the page script."""

    kind: str
    label: str
    clock: ProgressClock
    stop: threading.Event = field(default_factory=threading.Event)
    fraction: float = 0.0
    message: str = "starting"
    detail: str = ""
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None
    taken: bool = False
    context: Any = None  # what the page needs to take the outcome (e.g. the settings it was started with)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    new_clock: Callable[[], ProgressClock] = ProgressClock  # makes ``clock`` again after a before_steps phase
    untimed_until: float | None = None  # no time left is shown until the work reports more done than this

    def progress(self, fraction: float, message: str) -> None:
        """The work's progress callback: records, and raises Cancelled once Stop was pressed."""
        if self.stop.is_set():
            raise Cancelled(STOPPED_BY_YOU)
        self.fraction, self.message, self.detail = min(max(fraction, 0.0), 1.0), message, ""
        if self.untimed_until is not None and self.fraction > self.untimed_until:
            self.untimed_until = None
        self.clock.observe(self.fraction, message)

    def note(self, message: str) -> None:
        """A sub-step inside the current step (``recaug.core.progress.note``); also where a stop takes effect."""
        if self.stop.is_set():
            raise Cancelled(STOPPED_BY_YOU)
        self.detail = message

    def text(self) -> str:
        """'Augmenting — similarity: embedding texts 512/1682 · about 40 s left'."""
        message = markdown_prose(f"{self.message} · {self.detail}" if self.detail else self.message, 300)
        if self.stop.is_set() and not self.done.is_set():
            return f"{self.label} — stopping after the current step ({message})"
        remaining = None if self.untimed_until is not None else self.clock.remaining(self.fraction)
        return f"{self.label} — {describe_progress(self.fraction, message, remaining)}"


_CURRENT_JOB: ContextVar[Job | None] = ContextVar("recaug_ui_job", default=None)  # set in the job's thread


@contextmanager
def before_steps(message: str) -> Iterator[None]:
    """Inside a job's work: the block is a phase before the work's steps (starting a Ray head), shown as
    ``message`` with no time left until the work reports its next step; its seconds are nobody's step (the clock
    restarts when it ends). Outside a job it only runs the block."""
    job = _CURRENT_JOB.get()
    if job is None:
        yield
        return
    job.untimed_until = job.fraction
    job.progress(job.fraction, message)
    try:
        yield
    finally:
        job.clock = job.new_clock()


def _key(kind: str) -> str:
    return f"job:{kind}"


_JOBS: dict[str, Job] = {}  # every job not yet taken, by id, across sessions: what a refreshed session re-attaches
_JOBS_LOCK = threading.Lock()


def _register(job: Job) -> None:
    """Keep ``job`` findable by id; forget taken jobs and all but the newest ``KEPT_FINISHED`` finished ones."""
    with _JOBS_LOCK:
        _JOBS[job.id] = job
        for stale in [key for key, kept in _JOBS.items() if kept.taken]:
            del _JOBS[stale]
        finished = [key for key, kept in _JOBS.items() if kept.done.is_set()]
        for old in finished[: max(0, len(finished) - KEPT_FINISHED)]:
            del _JOBS[old]


def open_job_ids() -> list[str]:
    """This session's jobs not taken yet (running, or finished and not shown): what the URL names for a refresh."""
    jobs = (st.session_state.get(key) for key in list(st.session_state.keys()) if str(key).startswith("job:"))
    return [job.id for job in jobs if isinstance(job, Job) and not job.taken]


def attach_jobs(ids: Iterable[str]) -> list[Job]:
    """After a refresh: make the jobs the URL names (and no session has taken) this session's, and return them.

    A job of a kind this session already has is left where it is."""
    attached = []
    with _JOBS_LOCK:
        found = [_JOBS[job_id] for job_id in ids if job_id in _JOBS]
    for job in found:
        if not job.taken and current_job(job.kind) is None:
            st.session_state[_key(job.kind)] = job
            attached.append(job)
    return attached


def current_job(kind: str) -> Job | None:
    """This session's job of ``kind`` (running, or finished and not yet taken), else None."""
    job = st.session_state.get(_key(kind))
    return job if isinstance(job, Job) else None


def is_running(kind: str) -> bool:
    job = current_job(kind)
    return job is not None and not job.done.is_set()


def start_job(
    kind: str,
    label: str,
    work: Callable[[ProgressFn], Any],
    clock: Callable[[], ProgressClock] = ProgressClock,
    context: Any = None,
) -> Job:
    """Run ``work(progress)`` in a new thread (one job of each kind per session; a running one is kept).

    ``clock`` makes the job's time-left clock (again after a :func:`before_steps` phase).

    The thread carries this session's script context (the cached stores it touches need one); it must not draw
    elements (the page that watches it draws) nor write ``st.session_state``: after a refresh that session is
    gone, and the work's outcome is taken by the new one.
    """
    running = current_job(kind)
    if running is not None and not running.done.is_set():
        return running
    job = Job(kind=kind, label=label, clock=clock(), new_clock=clock, context=context)

    def run() -> None:
        _CURRENT_JOB.set(job)  # this thread's own context: for before_steps
        try:
            with reporting(job.note):
                job.value = work(job.progress)
        except BaseException as error:  # Cancelled included: the page reports whatever ended the work
            if not isinstance(error, Cancelled):
                logger.warning("%s failed", label, exc_info=True)
            job.error = error
        finally:
            job.done.set()

    thread = threading.Thread(target=run, name=f"recaug-{kind}", daemon=True)
    add_script_run_ctx(thread, get_script_run_ctx())
    st.session_state[_key(kind)] = job
    _register(job)
    thread.start()
    return job


def request_stop(kind: str) -> None:
    """The Stop button's callback: ask the job to stop at its next step."""
    job = current_job(kind)
    if job is not None:
        job.stop.set()


def watch_job(kind: str) -> Job | None:
    """Draw the running job's bar and Stop button and wait for it; return the finished job once, else None.

    Returns None when there is no job, or it was already taken. The caller reads ``value`` or ``error``.
    """
    job = current_job(kind)
    if job is None or job.taken:
        return None
    if not job.done.is_set():
        slot = st.empty()  # the bar and the Stop button, removed together when the job ends
        panel = slot.container()
        bar = panel.progress(job.fraction, text=job.text())
        panel.button(
            "Stop",
            key=f"stop_{kind}",
            icon=":material/stop_circle:",
            on_click=request_stop,
            args=(kind,),
            disabled=job.stop.is_set(),
            help="Stops after the step that is running now; finished seeds (or methods) are kept and shown.",
        )
        while not job.done.wait(POLL_S):
            bar.progress(job.fraction, text=job.text())  # also where a click interrupts this watching run
        slot.empty()
    job.taken = True
    with _JOBS_LOCK:
        _JOBS.pop(job.id, None)
    return job


def run_blocking(kind: str, label: str, work: Callable[[ProgressFn], Any]) -> Job:
    """Start ``work`` and watch it in this run: what the page's Run button does."""
    start_job(kind, label, work)
    job = watch_job(kind)
    assert job is not None  # just started: not taken yet
    return job


def stop_text(job: Job) -> str:
    """'Stopped by you during seed 1: fitting bpr on baseline (at 43%).'"""
    reason = job.error.reason if isinstance(job.error, Cancelled) else "stopped"
    return f"**{job.label} {reason}** at {job.fraction:.0%} (last step reported: {markdown_prose(job.message, 300)})."
