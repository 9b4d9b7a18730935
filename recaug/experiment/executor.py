"""Where independent replicates run: in this process, or as tasks on a Ray cluster.

The interface is one call, ``Executor.map(fn, items, shared) -> list``: ``fn(shared, item)`` for every item,
results in input order. ``shared`` is the large read-only input every task needs (the dataset, the splits); Ray
puts it in the object store once and hands every task the same reference, instead of pickling it per task.
``fn`` must be a module-level function (Ray pickles it by reference) and must not rely on global state, so the
results are identical wherever it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from recaug.core.errors import RecaugInputError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
EXECUTORS = ("local", "ray")


class Executor(Protocol):
    """Runs ``fn(shared, item)`` for each item; results come back in input order."""

    name: str

    def map(self, fn: Callable[[Any, T], R], items: Sequence[T], shared: Any = None) -> list[R]: ...


class LocalExecutor:
    """In this process, one item after another (the default; what the dashboard does)."""

    name = "local"

    def map(self, fn: Callable[[Any, T], R], items: Sequence[T], shared: Any = None) -> list[R]:
        return [fn(shared, item) for item in items]


class RayExecutor:
    """Tasks on a Ray cluster: ``address`` of a running cluster, or None for a local head on 127.0.0.1.

    A local head binds 127.0.0.1 with the dashboard off. ``num_cpus`` caps a local head's workers. Ray is started
    lazily on the first ``map`` and left running for later calls (``shutdown`` stops what this object started).
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self._started = False

    def _connect(self) -> Any:
        try:
            import ray
        except ImportError as error:  # pragma: no cover - ray is in requirements.txt
            raise RecaugInputError(
                "the Ray executor needs the 'ray' package", fix="pip install ray==2.60.0, or use --executor local"
            ) from error
        if not ray.is_initialized():
            import recaug

            # Ship this exact recaug to the workers, so a cluster runs the driver's code (and need not install it).
            runtime_env = {"py_modules": [recaug], "env_vars": {"PYTHONHASHSEED": "0"}}
            if self.address:
                ray.init(address=self.address, runtime_env=runtime_env, log_to_driver=False)
            else:
                ray.init(
                    num_cpus=self.num_cpus,
                    include_dashboard=False,
                    _node_ip_address="127.0.0.1",
                    runtime_env=runtime_env,
                    log_to_driver=False,
                )
            self._started = True
        return ray

    def map(self, fn: Callable[[Any, T], R], items: Sequence[T], shared: Any = None) -> list[R]:
        ray = self._connect()
        shared_ref = ray.put(shared)  # once; every task receives the same object reference
        remote = ray.remote(_call)
        futures = [remote.remote(fn, shared_ref, item) for item in items]
        log.info("submitted %d Ray tasks", len(futures))
        return list(ray.get(futures))

    def shutdown(self) -> None:
        """Disconnect (and stop a local head) if this executor started Ray."""
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


def _call(fn: Callable[[Any, Any], Any], shared: Any, item: Any) -> Any:
    """The Ray task body: Ray resolves ``shared`` (an object reference) to the stored object before the call."""
    return fn(shared, item)


def make_executor(name: str = "local", address: str | None = None) -> LocalExecutor | RayExecutor:
    """The executor called ``name`` ('local' or 'ray'); ``address`` is the Ray cluster's (None: a local head)."""
    if name == "local":
        if address:
            raise RecaugInputError("--ray-address only applies to --executor ray", fix="add --executor ray")
        return LocalExecutor()
    if name == "ray":
        return RayExecutor(address)
    raise RecaugInputError(f"unknown executor '{name}'", fix=f"use one of: {', '.join(EXECUTORS)}")
