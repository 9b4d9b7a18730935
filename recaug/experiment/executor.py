"""Where independent tasks run: here one after another, on a local process pool, or on a Ray cluster.

An experiment's tasks are its fits, one per (seed, arm, model); each is ``fn(shared, item)`` with ``shared`` the
large read-only input every task needs (the dataset and the configuration), sent once per worker rather than once
per task: the process pool's workers inherit it when they are forked, and Ray keeps it in its object store and
each worker reads it once. ``fn`` must be a module-level function that does not rely on global state, so a result
is the same bytes wherever it runs.

``session(shared)`` opens the workers; its ``submit(fn, item)`` returns a ``concurrent.futures.Future``, so the
caller can queue new tasks while earlier ones run (a seed's fits start while the next seed augments) and report
progress as each one finishes; ``running()`` says what the running tasks last reported (a pool's workers write it
to a :class:`ProgressBoard`), so a fit of minutes shows its epochs, not a bar that stands still. ``map`` is the
one-shot form.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import itertools
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from recaug.core.errors import RecaugInputError
from recaug.core.progress import ProgressFn, no_progress
from recaug.experiment.tasks import Executor as Executor
from recaug.experiment.tasks import R, T, Task, _map, single_threaded
from recaug.experiment.tasks import Session as Session

log = logging.getLogger(__name__)

EXECUTORS = ("local", "serial", "ray")


class _SerialSession:
    runs_here = True

    def __init__(self, shared: Any) -> None:
        self.shared = shared

    def submit(self, fn: Task, item: Any, progress: ProgressFn = no_progress) -> cf.Future[Any]:
        future: cf.Future[Any] = cf.Future()
        with single_threaded():
            future.set_result(fn(self.shared, item, progress=progress))  # errors propagate at once, as before
        return future

    def running(self) -> list[tuple[cf.Future[Any], str]]:
        """Nothing runs between calls: a task reports through ``progress`` while ``submit`` runs it."""
        return []


class ProgressBoard:
    """What each pool worker is doing, in shared memory: a slot per worker with the task it runs and that task's
    last progress message (e.g. 'BPR epoch 24: valid NDCG@10 0.1994').

    Why shared memory and not a queue: a worker killed while writing (a stopped run terminates them) cannot leave a
    lock held that blocks the others, and the driver reads when it likes. Each slot has one writer; a sequence
    number, odd while a write is under way, lets the reader skip a slot caught mid-write (a seqlock).
    """

    WIDTH = 240  # bytes of message kept per slot

    def __init__(self, context: Any, slots: int) -> None:
        self.slots = slots
        self.tasks = context.Array("q", [-1] * slots, lock=False)
        self.sequence = context.Array("q", slots, lock=False)
        self.texts = context.Array("c", slots * self.WIDTH, lock=False)
        self.next_slot = context.Value("i", 0)

    def claim(self) -> int:
        """A slot for the calling worker (once, when it starts)."""
        with self.next_slot.get_lock():
            slot = self.next_slot.value % self.slots
            self.next_slot.value += 1
        return slot

    def write(self, slot: int, task: int, message: str) -> None:
        """Worker side: ``task`` is running and last said ``message`` (-1: the slot is idle)."""
        data = message.encode("utf-8")[: self.WIDTH].ljust(self.WIDTH, b"\0")
        self.sequence[slot] += 1
        self.tasks[slot] = task
        self.texts[slot * self.WIDTH : (slot + 1) * self.WIDTH] = data
        self.sequence[slot] += 1

    def read(self) -> dict[int, str]:
        """Driver side: task -> its last message, for every slot with a task and a message, read whole."""
        found: dict[int, str] = {}
        for slot in range(self.slots):
            before = self.sequence[slot]
            if before % 2:
                continue
            task = self.tasks[slot]
            data = bytes(self.texts[slot * self.WIDTH : (slot + 1) * self.WIDTH])
            if self.sequence[slot] != before or task < 0:
                continue
            message = data.rstrip(b"\0").decode("utf-8", errors="ignore")
            if message:
                found[task] = message
        return found


class SerialExecutor:
    """In this process, one task after another, with each fit's own progress (epochs) reported."""

    name = "serial"
    plans_remotely = False

    @contextlib.contextmanager
    def session(self, shared: Any) -> Iterator[_SerialSession]:
        yield _SerialSession(shared)

    def map(self, fn: Callable[[Any, T], R], items: Sequence[T], shared: Any = None) -> list[R]:
        return _map(self, fn, items, shared)


def available_cores() -> int:
    """Cores this process may use (its CPU affinity, which containers and ``taskset`` narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_SHARED: Any = None  # the session's shared input inside a pool worker (inherited at fork, or set by _install)
_BOARD: ProgressBoard | None = None  # the session's progress board, inside a pool worker
_SLOT = 0  # this worker's slot on it


def _die_with(parent: int) -> None:
    """End this worker when ``parent`` (the process that started the pool) ends, on Linux.

    Why: a pool worker waits on its task queue forever once its parent is gone. When the dashboard was stopped
    (Ctrl-C, a killed server) during a comparison, its workers finished their fits and then stayed, 1.3 GB each
    at 1M interactions, until someone killed them by hand.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    set_parent_death_signal = 1  # PR_SET_PDEATHSIG
    ctypes.CDLL(None).prctl(set_parent_death_signal, int(signal.SIGKILL))
    if os.getppid() != parent:  # the parent ended before the line above
        os._exit(1)


def _install(shared: Any, pickled: bool, board: ProgressBoard | None = None, parent: int | None = None) -> None:
    """Pool worker start: the shared input (``pickled``: sent here; else inherited from the parent at fork), one
    thread per worker for torch, BLAS and ``implicit``, and an end with its ``parent`` (:func:`_die_with`).

    One thread each: the pool already keeps every core busy, and more threads per worker only spin against each
    other (measured on 2 shared cores: torch's spinning threads made BPR 15x slower).
    """
    global _SHARED, _BOARD, _SLOT
    if pickled:
        _SHARED = shared
    if board is not None:
        _BOARD, _SLOT = board, board.claim()
    # A stop terminates the workers (SIGTERM). A forked worker inherits its parent's handler, and a web server's
    # (Streamlit's) only asks its own event loop to stop: the workers ran on to the end of their fits, and the
    # stop waited for them. The default action ends the process at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Ctrl-C in a terminal reaches the whole foreground group: the driver decides (it stops at its next step and
    # keeps the finished seeds); a worker interrupted mid-fit would only turn a finished seed into a failed one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        _die_with(parent)
    os.environ["RECAUG_FIT_THREADS"] = "1"  # read by models with their own thread pools (implicit's ALS)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"  # for libraries a task loads later
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def _in_worker(fn: Task, item: Any, task: int = -1) -> Any:
    """Run one task in a pool worker; its progress messages go to the board, tagged with ``task``."""
    board, slot = _BOARD, _SLOT
    if board is None:
        with single_threaded():
            return fn(_SHARED, item)

    def progress(fraction: float, message: str) -> None:
        board.write(slot, task, message)

    try:
        with single_threaded():
            return fn(_SHARED, item, progress=progress)
    finally:
        board.write(slot, -1, "")


def start_method() -> str:
    """'fork' (workers start in milliseconds and inherit the shared input and anything a caller patched), or
    'spawn' once this process has initialised CUDA, which a forked child cannot use."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        return "spawn"
    return "fork"


class _PoolSession:
    runs_here = False

    def __init__(self, pool: cf.ProcessPoolExecutor, board: ProgressBoard) -> None:
        self.pool = pool
        self.board = board
        self.futures: dict[int, cf.Future[Any]] = {}
        self.numbers = itertools.count()

    def submit(self, fn: Task, item: Any, progress: ProgressFn = no_progress) -> cf.Future[Any]:
        task = next(self.numbers)
        future = self.pool.submit(_in_worker, fn, item, task)
        self.futures[task] = future
        future.add_done_callback(lambda _: self.futures.pop(task, None))
        return future

    def running(self) -> list[tuple[cf.Future[Any], str]]:
        """The unfinished tasks that have reported, with their last message, in the order they were submitted."""
        live = self.board.read()
        return [
            (future, live[task])
            for task, future in sorted(self.futures.copy().items())
            if task in live and not future.done()
        ]


class ProcessExecutor:
    """A pool of ``workers`` local processes (None or 0: one per available core), started per session.

    Results are the bytes a serial run gives: every task runs single-threaded in either case (see
    :func:`single_threaded`), and the pool only changes where. A session that ends with an error (or a stopped
    run: the progress callback raised) cancels queued tasks and stops the workers at once.
    """

    name = "local"
    plans_remotely = False

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 0:
            raise RecaugInputError(f"--workers must be 0 (one per core) or more, got {workers}")
        self.workers = workers or available_cores()

    @contextlib.contextmanager
    def session(self, shared: Any) -> Iterator[_PoolSession | _SerialSession]:
        if self.workers <= 1:
            yield _SerialSession(shared)
            return
        method = start_method()
        context = multiprocessing.get_context(method)
        board = ProgressBoard(context, self.workers)
        global _SHARED
        _SHARED = shared  # a forked worker starts with it; _install sets it again (spawn pickles it once per worker)
        pool = cf.ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_install,
            initargs=(shared, True, board, os.getpid()) if method == "spawn" else (None, False, board, os.getpid()),
        )
        completed = False
        try:
            yield _PoolSession(pool, board)
            completed = True
        finally:
            _SHARED = None
            if completed:
                pool.shutdown(wait=True)
            else:
                _stop(pool)

    def map(self, fn: Callable[[Any, T], R], items: Sequence[T], shared: Any = None) -> list[R]:
        return _map(self, fn, items, shared)


def _stop(pool: cf.ProcessPoolExecutor, grace_s: float = 5.0) -> None:
    """Cancel what has not started and end the workers now (a stopped or failed run must not keep the cores):
    SIGTERM, then SIGKILL for any still alive after ``grace_s``."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    results = getattr(pool, "_result_queue", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=grace_s)
        if process.is_alive():
            log.warning("pool worker %s ignored SIGTERM; killing it", process.pid)
            process.kill()
            process.join(timeout=grace_s)
    # A worker stopped while sending a result leaves the pool's own thread waiting for the rest of that message,
    # and this process's exit waits for that thread: it hung after some stops. With the workers gone, closing our
    # write end of the result pipe turns that wait into an end of file, which the thread takes as a broken pool.
    writer = getattr(results, "_writer", None)
    if writer is not None:
        writer.close()


def make_executor(
    name: str = "local",
    address: str | None = None,
    *,
    workers: int | None = None,
    task_cpus: float | None = None,
    task_memory: int | None = None,
) -> SerialExecutor | ProcessExecutor | Any:
    """The executor called ``name``: 'local' (a process pool, ``workers`` processes, None/0: one per core),
    'serial' (this process only) or 'ray' (``address``: a running cluster; None: a local head on 127.0.0.1; each
    task declares ``task_cpus`` CPUs (default 1) and ``task_memory`` bytes (default: none declared))."""
    ray_only = {"--ray-address": address, "--ray-task-cpus": task_cpus, "--ray-task-memory": task_memory}
    if name in ("local", "serial") and (given := [flag for flag, value in ray_only.items() if value is not None]):
        raise RecaugInputError(f"{', '.join(given)} only applies to --executor ray", fix="add --executor ray")
    if name == "local":
        return ProcessExecutor(workers)
    if name == "serial":
        return SerialExecutor()
    if name == "ray":
        from recaug.experiment.ray_executor import RayExecutor

        return RayExecutor(address, task_cpus=1.0 if task_cpus is None else task_cpus, task_memory=task_memory or 0)
    raise RecaugInputError(f"unknown executor '{name}'", fix=f"use one of: {', '.join(EXECUTORS)}")
