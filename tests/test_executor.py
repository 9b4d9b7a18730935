"""Executors: results in input order, the shared input sent once, unknown names refused, a failing task stops
the pool; the process pool gives the serial run's bytes; Ray on a local head."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.experiment.executor import ProcessExecutor, SerialExecutor, make_executor
from recaug.experiment.ray_executor import RayExecutor


def weighted_sum(shared: np.ndarray, item: int) -> tuple[int, float, int]:
    """Module level, so Ray can pickle it by reference."""
    return item, float(shared.sum() * item), os.getpid()


def listening_addresses(roots: list[int]) -> list[str]:
    """Local addresses of the TCP sockets listened on by ``roots``' descendants (``ss -ltnp``)."""
    import subprocess

    import psutil

    pids = {child.pid for root in roots for child in psutil.Process(root).children(recursive=True)}
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines() if any(f"pid={pid}," in line for pid in pids)]


def fails_on_three(shared: object, item: int) -> int:
    if item == 3:
        raise RecaugInputError("item three is refused")
    return item


def test_serial_executor_maps_in_order_in_this_process() -> None:
    shared = np.arange(10.0)
    results = SerialExecutor().map(weighted_sum, [3, 1, 2], shared)
    assert [r[:2] for r in results] == [(3, 135.0), (1, 45.0), (2, 90.0)]
    assert {r[2] for r in results} == {os.getpid()}


def test_process_pool_maps_in_order_in_other_processes() -> None:
    shared = np.arange(10.0)
    results = ProcessExecutor(2).map(weighted_sum, list(range(8)), shared)
    assert [r[:2] for r in results] == [(i, 45.0 * i) for i in range(8)]
    assert os.getpid() not in {r[2] for r in results}
    assert ProcessExecutor(0).workers >= 1 and ProcessExecutor(None).workers == ProcessExecutor(0).workers


def test_a_failing_task_raises_its_own_error_from_the_pool() -> None:
    with pytest.raises(RecaugInputError, match="item three is refused"):
        ProcessExecutor(2).map(fails_on_three, list(range(6)), None)


def test_make_executor_names_and_refusals() -> None:
    assert isinstance(make_executor("local"), ProcessExecutor)
    assert make_executor("local", workers=3).workers == 3  # type: ignore[union-attr]
    assert isinstance(make_executor("serial"), SerialExecutor)
    ray_executor = make_executor("ray", "10.0.0.5:6379")
    assert isinstance(ray_executor, RayExecutor) and ray_executor.address == "10.0.0.5:6379"
    with pytest.raises(RecaugInputError, match="unknown executor 'dask'"):
        make_executor("dask")
    with pytest.raises(RecaugInputError, match="--executor ray"):
        make_executor("local", "10.0.0.5:6379")
    sized = make_executor("ray", task_cpus=0.5, task_memory=2**31)
    assert sized.task_options() == {"num_cpus": 0.5, "max_retries": 2, "memory": 2**31}
    assert make_executor("ray").task_options() == {"num_cpus": 1.0, "max_retries": 2}
    with pytest.raises(RecaugInputError, match="--ray-task-memory only applies to --executor ray"):
        make_executor("serial", task_memory=2**30)
    with pytest.raises(RecaugInputError, match="--workers"):
        ProcessExecutor(-1)


def test_the_process_pool_gives_the_serial_runs_bytes(ml100k: Dataset) -> None:
    """Every kind of model (numpy, torch, implicit's C++, LAPACK), two seeds and an augmenter: per-user values and
    tables identical whether the fits ran here one by one or on two workers."""
    config = ExperimentConfig(
        augmenters=["similarity"],
        models=["pop", "bpr", "als", "ease"],
        model_params={"bpr": {"max_epochs": 2}, "als": {"max_iterations": 2}, "ease": {"reg_grid": (100.0, 500.0)}},
        seeds=[0, 1],
        aa_control=False,
        metrics=["ndcg", "recall", "coverage"],
        ks=[10],
        primary=["ndcg@10"],
        save_top_k=5,
    )
    messages: list[tuple[float, str]] = []
    pooled = run_experiment(ml100k, config, executor=ProcessExecutor(2), progress=lambda f, m: messages.append((f, m)))
    serial = run_experiment(ml100k, config, executor=SerialExecutor())
    assert pooled.results.equals(serial.results) and len(pooled.results) > 0
    assert pooled.synthetic.equals(serial.synthetic)
    assert pooled.user_metrics.keys() == serial.user_metrics.keys()
    for key, metrics in pooled.user_metrics.items():
        for name, values in metrics.values.items():
            assert values.tobytes() == serial.user_metrics[key].values[name].tobytes(), (key, name)
    assert pooled.top_k.keys() == serial.top_k.keys() and len(pooled.top_k) == 2 * 2 * 4
    for key, table in pooled.top_k.items():
        assert table.equals(serial.top_k[key]), key
    first = pooled.top_k[("ease", "baseline", 0)]
    assert list(first.columns) == ["user_id", "rank", "item_id", "score"]
    assert first.groupby("user_id")["rank"].max().eq(5).all()
    assert (first.groupby("user_id")["score"].diff().dropna() <= 0).all()  # best first
    fractions = [f for f, _ in messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0  # one bar, forward only
    assert sum("fitted" in m for _, m in messages) == 2 * 2 * 4  # every fit reported once


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
        addresses = listening_addresses([os.getpid()])  # the local head's GCS, raylet and workers are our children
        assert addresses and all(a.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")) for a in addresses), addresses
    finally:
        executor.shutdown()
    assert not ray.is_initialized()
