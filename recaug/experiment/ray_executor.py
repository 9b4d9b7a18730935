"""Tasks on a Ray cluster: one task per fit (seed x arm x model), each declaring the resources it needs.

The shared input (dataset, configuration) goes to the object store once; a worker reads it once and keeps it for
the next tasks of the same session (:func:`_shared`), so a task ships only its small item and returns only its
small result (metrics and per-user values, never a split). A task that fails is retried (``max_retries``, for a
lost node or worker) and, if it still fails, surfaces as one line naming the fit, while the fits that finished are
kept in a fit cache, so rerunning the comparison resumes from them. While tasks run, each sends its progress
(a BPR fit's epoch and validation score, at most once a second) to a small actor of the session
(:class:`ProgressBoardActor`), which the driver reads to name the running fits.

Ray is started (or connected to) from a thread that lives as long as the process (:func:`on_owner_thread`):
a local head's GCS and raylet are started with ``prctl(PR_SET_PDEATHSIG)`` (``fate_share`` in Ray's
``services.start_ray_process``), which on Linux fires when the *thread* that started them ends, not the process.
Started from the dashboard's short-lived job thread, the head was killed as that run finished, and 60 s later
Ray's core worker ended the whole dashboard for want of its GCS. Tied to the owner thread, the head outlives every
run and still dies with the process (the thread ends with it; a clean exit also runs Ray's own shutdown).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import itertools
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from recaug.core.errors import RecaugInputError
from recaug.core.progress import ProgressFn, no_progress
from recaug.experiment.fit_cache import FitCache
from recaug.experiment.tasks import Task, _map, single_threaded

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
_CACHE: dict[str, Any] = {}  # per worker process: the session's shared input, by object id


def _shared(refs: list[Any]) -> Any:
    """The shared input behind ``refs[0]`` (an ObjectRef inside a list, so Ray passes the reference, not the
    value): fetched once per worker and session, then reused by the worker's later tasks."""
    import ray

    key = refs[0].hex()
    if key not in _CACHE:
        _CACHE.clear()  # one session's input at a time
        _CACHE[key] = ray.get(refs[0])
    return _CACHE[key]


class ProgressBoardActor:
    """The running tasks' last progress messages, kept by one small actor per session (the cluster's counterpart
    of the local pool's shared-memory board): tasks send, the driver reads while it waits."""

    def __init__(self) -> None:
        self.messages: dict[int, str] = {}

    def write(self, task: int, message: str) -> None:
        self.messages[task] = message

    def read(self) -> dict[int, str]:
        return dict(self.messages)


REPORT_EVERY_S = 1.0  # a task sends at most one progress message a second (each is a remote call)


class _Relay:
    """A task's progress callback: its messages go to the board, at most one every ``REPORT_EVERY_S``, and the
    latest always wins: a message that comes sooner is held and sent when the interval is up (a timer), unless a
    newer one replaces it first. Dropping it instead could leave the board on an old message ("BPR epoch 1") while
    the fit went on quietly. A board that cannot be reached is ignored (progress must never fail a fit)."""

    def __init__(self, board: Any, task: int) -> None:
        self.board, self.task = board, task
        self.lock = threading.Lock()
        self.sent_at = -float("inf")
        self.held: str | None = None
        self.timer: threading.Timer | None = None

    def __call__(self, fraction: float, message: str) -> None:
        if self.board is None:
            return
        with self.lock:
            wait = self.sent_at + REPORT_EVERY_S - time.monotonic()
            if wait <= 0:
                self._send(message)
                return
            self.held = message
            if self.timer is None:
                self.timer = threading.Timer(wait, self._flush)
                self.timer.daemon = True
                self.timer.start()

    def _flush(self) -> None:
        with self.lock:
            self.timer = None
            if self.held is not None:
                self._send(self.held)

    def _send(self, message: str) -> None:
        """Send now (the caller holds ``lock``)."""
        self.sent_at, self.held = time.monotonic(), None
        with contextlib.suppress(Exception):
            self.board.write.remote(self.task, message)

    def close(self) -> None:
        """The task ended: a held message is stale now."""
        with self.lock:
            self.held = None
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None


def _run(fn: Task, refs: list[Any], item: Any, board: Any = None, task: int = -1) -> tuple[str, Any]:
    """The Ray task body: one thread for torch and BLAS (the cluster's scheduler keeps the cores busy), progress
    to the session's ``board``. Returns the id of the node it ran on with the result, so the driver can say where
    the work went."""
    import os
    import sys

    import ray

    os.environ["RECAUG_FIT_THREADS"] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    relay = _Relay(board, task)
    try:
        with single_threaded():
            result = fn(_shared(refs), item, progress=relay)
    finally:
        relay.close()
    return ray.get_runtime_context().get_node_id(), result


class _RaySession:
    runs_here = False

    def __init__(
        self, ray: Any, refs: list[Any], options: dict[str, Any], nodes: Counter[str], board: Any = None
    ) -> None:
        self.ray = ray
        self.refs = refs
        self.remote = ray.remote(_run).options(**options)
        self.nodes = nodes
        self.board = board
        self.futures: dict[int, cf.Future[Any]] = {}
        self.numbers = itertools.count()

    def submit(self, fn: Task, item: Any, progress: ProgressFn = no_progress) -> cf.Future[Any]:
        """The task's result as a future; its node is counted in ``nodes`` when it arrives."""
        task = next(self.numbers)
        remote = self.remote.remote(fn, self.refs, item, self.board, task).future()
        result: cf.Future[Any] = cf.Future()
        self.futures[task] = result
        result.add_done_callback(lambda _: self.futures.pop(task, None))

        def arrived(done: cf.Future[Any]) -> None:
            if done.exception() is not None:
                result.set_exception(done.exception())
                return
            node, value = done.result()
            self.nodes[node] += 1
            result.set_result(value)

        remote.add_done_callback(arrived)
        return result

    def running(self) -> list[tuple[cf.Future[Any], str]]:
        """The unfinished tasks that have reported, with their last message (none if the board cannot be read)."""
        if self.board is None:
            return []
        try:
            live = self.ray.get(self.board.read.remote(), timeout=5)
        except Exception:  # a board lost with its node: the run goes on, reported as fits arrive, without waits
            self.board = None
            return []
        return [
            (future, live[task])
            for task, future in sorted(self.futures.copy().items())
            if task in live and not future.done()
        ]


def loopback_only() -> None:
    """Make a local head listen on 127.0.0.1 alone. ``_node_ip_address="127.0.0.1"`` is not enough: Ray treats a
    Linux node as part of a possible cluster and binds its GCS, raylet and workers to every interface (``ss -ltnp``
    showed ``*:port``); its "this node only" switch (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read once at import,
    and inherited by the processes it starts) keeps them on loopback."""
    import os

    from ray._private import ray_constants

    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False


class _OwnerThread:
    """A daemon thread that runs the calls given to it, one at a time, until the process ends."""

    def __init__(self) -> None:
        self.calls: queue.SimpleQueue[tuple[Callable[[], Any], cf.Future[Any]]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="recaug-ray-owner", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            call, future = self.calls.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(call())
                except BaseException as error:  # handed to the caller, never ends the owner
                    future.set_exception(error)

    def run(self, call: Callable[[], T]) -> T:
        future: cf.Future[T] = cf.Future()
        self.calls.put((call, future))
        return future.result()


_OWNER: _OwnerThread | None = None
_OWNER_LOCK = threading.Lock()
_CONNECT_LOCK = threading.Lock()  # one ray.init at a time: two dashboard sessions may start runs together


def on_owner_thread(call: Callable[[], T]) -> T:
    """``call()`` in a thread that lives as long as the process: this one if it is the main thread (the CLI, a
    notebook), else the process's Ray owner thread, started on first use. Whatever Ray starts there is tied to
    that thread's life (see the module docstring), so it must not be a short-lived job thread."""
    global _OWNER
    if threading.current_thread() is threading.main_thread():
        return call()
    with _OWNER_LOCK:
        if _OWNER is None:
            _OWNER = _OwnerThread()
        owner = _OWNER
    return owner.run(call)


class RayExecutor:
    """Tasks on a Ray cluster: ``address`` of a running cluster, or None for a local head on 127.0.0.1.

    A local head binds 127.0.0.1 with the dashboard off. ``num_cpus`` caps a local head's workers. Each task
    declares ``task_cpus`` CPUs (and ``task_gpus`` GPUs, ``task_memory`` bytes; 0: none declared), so Ray places
    as many fits on a node as it has cores. Ray is started lazily on the first session and left running for later
    ones (``shutdown`` stops what this object started).
    """

    name = "ray"
    plans_remotely = True

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        task_cpus: float = 1.0,
        task_gpus: float = 0.0,
        task_memory: int = 0,
        max_retries: int = 2,
        fit_cache: FitCache | bool | None = True,
    ) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.task_cpus = task_cpus
        self.task_gpus = task_gpus
        self.task_memory = task_memory
        self.max_retries = max_retries
        # True: $RECAUG_HOME/fits; a cluster's run keeps its finished fits there, so a rerun after a failure
        # computes only the rest (:mod:`recaug.experiment.fit_cache`). False/None: no cache.
        if fit_cache is True:
            from recaug.core.paths import cache_dir

            fit_cache = FitCache(cache_dir("fits"))
        self.fit_cache = fit_cache if isinstance(fit_cache, FitCache) else None
        self.task_nodes: Counter[str] = Counter()  # tasks finished per node id, over every session
        self._started = False

    def starting_text(self) -> str:
        """What connecting does, for a progress bar while it runs (a local head takes seconds to start)."""
        return f"connecting to Ray at {self.address}" if self.address else "starting Ray (local head on 127.0.0.1)"

    def connect(self) -> Any:
        """Start a local head or connect to ``address`` (once per process; later calls reuse it) and return the
        ``ray`` module. Runs on the owner thread (:func:`on_owner_thread`), whichever thread calls it."""
        try:
            import ray
        except ImportError as error:  # pragma: no cover - ray is in requirements.txt
            raise RecaugInputError(
                "the Ray executor needs the 'ray' package", fix="pip install ray==2.60.0, or use --executor local"
            ) from error
        with _CONNECT_LOCK:
            if not ray.is_initialized():
                on_owner_thread(self._init)
        return ray

    def _init(self) -> None:
        """``ray.init`` for this executor: the driver's code shipped to the workers; a local head on loopback."""
        import ray

        # Ship this exact recaug to the workers, so a cluster runs the driver's code (and need not install it).
        # Its folder, not the imported package: importing recaug here would close an import cycle.
        recaug_folder = str(Path(__file__).resolve().parents[1])
        runtime_env = {"py_modules": [recaug_folder], "env_vars": {"PYTHONHASHSEED": "0"}}
        if self.address:
            ray.init(address=self.address, runtime_env=runtime_env, log_to_driver=False)
        else:
            loopback_only()
            ray.init(
                num_cpus=self.num_cpus,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                runtime_env=runtime_env,
                log_to_driver=False,
            )
        self._started = True

    def task_options(self) -> dict[str, Any]:
        """The resources and retries every task declares."""
        options: dict[str, Any] = {"num_cpus": self.task_cpus, "max_retries": self.max_retries}
        if self.task_gpus:
            options["num_gpus"] = self.task_gpus
        if self.task_memory:
            options["memory"] = self.task_memory
        return options

    @contextlib.contextmanager
    def session(self, shared: Any) -> Iterator[_RaySession]:
        ray = self.connect()
        refs = [ray.put(shared)]  # once; every task receives the same object reference
        board = ray.remote(ProgressBoardActor).options(num_cpus=0).remote()  # no core taken from the fits
        try:
            yield _RaySession(ray, refs, self.task_options(), self.task_nodes, board)
        finally:
            with contextlib.suppress(Exception):
                ray.kill(board)

    def placement(self) -> str:
        """Where the finished tasks ran, e.g. '12 tasks on 2 nodes (3f9a01c2: 7, 8be0d4a1: 5)' (node id prefixes)."""
        counts = ", ".join(f"{node[:8]}: {n}" for node, n in self.task_nodes.most_common())
        total = sum(self.task_nodes.values())
        return f"{total} tasks on {len(self.task_nodes)} node{'s' if len(self.task_nodes) != 1 else ''} ({counts})"

    def map(self, fn: Callable[[Any, T], R], items: Sequence[T], shared: Any = None) -> list[R]:
        return _map(self, fn, items, shared)

    def shutdown(self) -> None:
        """Disconnect (and stop a local head) if this executor started Ray."""
        if self._started:
            import ray

            ray.shutdown()
            self._started = False
