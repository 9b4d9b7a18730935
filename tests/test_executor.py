"""Executors: results in input order, the shared input sent once, unknown names refused; Ray on a local head."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from recaug.core.errors import RecaugInputError
from recaug.experiment.executor import LocalExecutor, RayExecutor, make_executor


def weighted_sum(shared: np.ndarray, item: int) -> tuple[int, float, int]:
    """Module level, so Ray can pickle it by reference."""
    return item, float(shared.sum() * item), os.getpid()


def test_local_executor_maps_in_order() -> None:
    shared = np.arange(10.0)
    assert [r[:2] for r in LocalExecutor().map(weighted_sum, [3, 1, 2], shared)] == [(3, 135.0), (1, 45.0), (2, 90.0)]


def test_make_executor_names_and_refusals() -> None:
    assert isinstance(make_executor("local"), LocalExecutor)
    ray_executor = make_executor("ray", "10.0.0.5:6379")
    assert isinstance(ray_executor, RayExecutor) and ray_executor.address == "10.0.0.5:6379"
    with pytest.raises(RecaugInputError, match="unknown executor 'dask'"):
        make_executor("dask")
    with pytest.raises(RecaugInputError, match="--executor ray"):
        make_executor("local", "10.0.0.5:6379")


def test_ray_executor_on_a_local_head_puts_shared_data_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    executor = RayExecutor(num_cpus=2)
    puts: list[int] = []
    original_put = ray.put

    def counting_put(value: object, **kwargs: object) -> object:
        puts.append(1)
        return original_put(value, **kwargs)

    monkeypatch.setattr(ray, "put", counting_put)
    try:
        shared = np.arange(10.0)
        results = executor.map(weighted_sum, list(range(6)), shared)
        assert [r[:2] for r in results] == [(i, 45.0 * i) for i in range(6)]
        assert len(puts) == 1  # the shared input went to the object store once for six tasks
        assert all(pid != os.getpid() for _, _, pid in results)  # really ran in Ray workers
    finally:
        executor.shutdown()
    assert not ray.is_initialized()
