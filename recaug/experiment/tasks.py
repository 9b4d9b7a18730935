"""What every executor shares: the task and session protocols, one-thread fits, and ``map`` over a session.

A module of its own so that the executors (``executor``: serial and process pool; ``ray_executor``) depend on it
and not on each other.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from recaug.core.progress import ProgressFn, no_progress

T = TypeVar("T")
R = TypeVar("R")
Task = Callable[..., Any]  # fn(shared, item, progress=...) -> result


class Session(Protocol):
    """Open workers for one batch of tasks that share ``shared``."""

    runs_here: bool  # tasks run in this process (one after another), not in workers

    def submit(self, fn: Task, item: Any, progress: ProgressFn = no_progress) -> cf.Future[Any]:
        """Queue ``fn(shared, item)``; ``progress`` is only called where the task runs in this process."""
        ...

    def running(self) -> list[tuple[cf.Future[Any], str]]:
        """Tasks running elsewhere now, each with the last progress message it sent (empty where none are sent)."""
        ...


class Executor(Protocol):
    """Runs tasks ``fn(shared, item)``; see the module docstring."""

    name: str
    plans_remotely: bool  # seeds' augmentation runs as tasks too (a cluster), not in this process

    def session(self, shared: Any) -> contextlib.AbstractContextManager[Session]: ...

    def map(self, fn: Callable[[Any, T], R], items: Sequence[T], shared: Any = None) -> list[R]: ...


def single_threaded() -> contextlib.AbstractContextManager[Any]:
    """One BLAS thread (threadpoolctl) for the block: every fit runs under it wherever it runs, so a sum's order,
    hence the bytes of a result, does not depend on how many cores the process that ran it had.

    scipy.linalg is imported first: SciPy ships its own OpenBLAS, which a limit set before it loads would miss
    (EASE's Cholesky then ran two spinning threads: 10x slower on a busy 2-core machine, measured).
    """
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _map(executor: Executor, fn: Callable[[Any, T], R], items: Sequence[T], shared: Any) -> list[R]:
    with executor.session(shared) as session:
        futures = [session.submit(_positional, (fn, item)) for item in items]
        return [future.result() for future in futures]


def _positional(shared: Any, call: tuple[Callable[[Any, Any], Any], Any], progress: ProgressFn = no_progress) -> Any:
    """``fn(shared, item)`` for ``map``'s two-argument functions."""
    fn, item = call
    return fn(shared, item)
