"""Executors: results in input order, the shared input sent once, unknown names refused, a failing task stops
the pool; the process pool gives the serial run's bytes; Ray on a local head."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recaug.core.errors import RecaugInputError
from recaug.core.progress import ProgressFn, no_progress
from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.experiment.executor import ProcessExecutor, ProgressBoard, SerialExecutor, make_executor
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


def running_after(pids: list[int], timeout_s: float) -> list[int]:
    """The ``pids`` still running (not ended, not a zombie) after waiting up to ``timeout_s``."""
    import psutil

    deadline = time.monotonic() + timeout_s
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def fails_on_three(shared: object, item: int) -> int:
    if item == 3:
        raise RecaugInputError("item three is refused")
    return item


def reports_then_waits(shared: object, item: str, progress: ProgressFn = no_progress) -> str:
    """Says where it is, then works on until the driver has seen it (a file appears) or 30 s pass."""
    progress(0.5, f"{item}: half way, épocas ✓")
    deadline = time.monotonic() + 30
    while not os.path.exists(shared) and time.monotonic() < deadline:  # type: ignore[arg-type]
        time.sleep(0.05)
    return item


def test_a_pool_names_what_its_running_tasks_last_reported(tmp_path: Path) -> None:
    """The workers' progress reaches the driver while the tasks run (non-ASCII intact), and a finished task is no
    longer listed."""
    seen = tmp_path / "seen"
    with ProcessExecutor(2).session(str(seen)) as session:
        futures = [session.submit(reports_then_waits, name) for name in ("first", "second")]
        deadline = time.monotonic() + 60
        while len(running := session.running()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(message for _, message in running) == ["first: half way, épocas ✓", "second: half way, épocas ✓"]
        assert [future for future, _ in running] == futures  # in the order they were submitted
        seen.touch()
        assert [future.result(timeout=60) for future in futures] == ["first", "second"]
        assert session.running() == []


def sleeps_a_minute(shared: object, item: int, progress: ProgressFn = no_progress) -> int:
    progress(0.0, "sleeping")  # the worker has started (its set-up is done) and runs this task
    time.sleep(60)
    return item


def test_a_stopped_pool_ends_its_workers_even_under_a_server_that_handles_sigterm() -> None:
    """Streamlit handles SIGTERM (a graceful stop of its own loop) and forked workers inherited that handler: a
    Stop on the dashboard waited 10 s per worker and left the fits running. Now the workers end at once."""
    import signal

    previous = signal.signal(signal.SIGTERM, lambda *_: None)  # what a web server installs
    try:
        with pytest.raises(KeyboardInterrupt), ProcessExecutor(2).session(None) as session:
            futures = [session.submit(sleeps_a_minute, item) for item in range(2)]
            workers = list(session.pool._processes.values())  # type: ignore[attr-defined]
            deadline = time.monotonic() + 60
            while len(session.running()) < 2 and time.monotonic() < deadline:  # both tasks running
                time.sleep(0.05)
            assert len(session.running()) == 2
            started = time.monotonic()
            raise KeyboardInterrupt  # a stop: the session closes with an error
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert time.monotonic() - started < 3.0
    # Ended, asked of the OS: the pool's own thread reaps workers too, after which ``is_alive`` can read True here.
    assert not running_after([worker.pid for worker in workers], 2.0)
    assert all(future.done() for future in futures)


ORPHAN_SCRIPT = """
import os, signal, sys, time
from recaug.experiment.executor import ProcessExecutor
from tests.test_executor import sleeps_a_minute
with ProcessExecutor(2).session(None) as session:
    futures = [session.submit(sleeps_a_minute, item) for item in range(2)]
    time.sleep(0.5)
    print(*[process.pid for process in session.pool._processes.values()], flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # the server dies mid-run: no clean-up of any kind
"""


def test_pool_workers_end_when_the_process_that_started_them_dies(tmp_path: Path) -> None:
    """A killed dashboard left its pool workers behind (1.3 GB each at 1M interactions), waiting forever."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    output = tmp_path / "output.txt"
    with output.open("w") as sink:  # a file, not a pipe: workers left alive must not keep the call waiting
        subprocess.run([sys.executable, "-c", ORPHAN_SCRIPT], cwd=root, stdout=sink, stderr=sink, timeout=120)
    text = output.read_text()
    workers = [int(pid) for pid in text.split()[:2] if pid.isdigit()]
    assert len(workers) == 2, text

    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"  # a zombie has ended
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)


def test_progress_board_skips_a_slot_caught_mid_write() -> None:
    import multiprocessing

    board = ProgressBoard(multiprocessing.get_context("fork"), 2)
    board.write(board.claim(), 7, "BPR epoch 3")
    board.write(board.claim(), 8, "x" * 1000)  # longer than a slot: cut to its width
    assert board.read() == {7: "BPR epoch 3", 8: "x" * ProgressBoard.WIDTH}
    board.sequence[0] += 1  # a write under way in slot 0
    assert board.read() == {8: "x" * ProgressBoard.WIDTH}
    board.sequence[0] += 1
    board.write(1, -1, "")  # slot 1's task ended
    assert board.read() == {7: "BPR epoch 3"}


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


def test_a_pooled_comparison_names_the_running_fits_and_their_epochs(
    ml100k: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a pool works, the bar's message names each running fit with its own last report (BPR's epochs), not
    the last fit queued; the bar itself still only moves forward."""
    import recaug.experiment.run as run_module

    monkeypatch.setattr(run_module, "LIVE_PROGRESS_S", 0.05)  # fits of 1-2 s here: look often enough to see looks
    config = ExperimentConfig(
        augmenters=[], models=["bpr"], seeds=[0, 1], aa_control=False, metrics=["ndcg"], ks=[10], primary=["ndcg@10"]
    )
    messages: list[tuple[float, str]] = []
    run_experiment(ml100k, config, executor=ProcessExecutor(2), progress=lambda f, m: messages.append((f, m)))
    live = [m for _, m in messages if m.startswith("running ")]
    assert live, messages
    assert all(re.search(r"bpr on baseline, seed [01] \(BPR epoch \d+", m) for m in live), live
    assert any("valid NDCG@10 0." in m for m in live)
    fractions = [f for f, _ in messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


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
        # Remote tasks' progress reaches the driver while they run, as the local pool's does.
        seen = Path(tempfile.mkdtemp()) / "seen"
        with executor.session(str(seen)) as session:
            futures = [session.submit(reports_then_waits, name) for name in ("first", "second")]
            deadline = time.monotonic() + 120
            while len(running := session.running()) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert sorted(m for _, m in running) == ["first: half way, épocas ✓", "second: half way, épocas ✓"]
            seen.touch()
            assert [future.result(timeout=120) for future in futures] == ["first", "second"]
            assert session.running() == []
    finally:
        executor.shutdown()
    assert not ray.is_initialized()


def test_a_pooled_comparison_computes_fidelity_while_it_fits(ml100k: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the fits in workers, the first seed's fidelity report is computed in the driver meanwhile: the same
    table as computing it afterwards, and the run record uses it instead of computing it again. Where fits run in
    this process (serial), it is not (its BLAS limit is process-wide), and the record computes it as before."""
    import recaug.analysis.fidelity as fidelity_module
    from recaug.analysis.fidelity import fidelity_for_experiment
    from recaug.reporting.runs import record_comparison

    config = ExperimentConfig(
        augmenters=["similarity"], models=["pop"], seeds=[1, 0], aa_control=False, metrics=["ndcg"], ks=[10]
    )
    pooled = run_experiment(ml100k, config, executor=ProcessExecutor(2), fidelity=True)
    assert pooled.fidelity is not None
    assert set(pooled.fidelity["method"]) == {"real", "similarity"}
    afterwards = fidelity_for_experiment(ml100k, pooled)  # seed 1: the first of config.seeds
    assert afterwards["value"].notna().sum() > 10
    pd.testing.assert_frame_equal(pooled.fidelity, afterwards)

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("fidelity computed twice")

    monkeypatch.setattr(fidelity_module, "fidelity_for_experiment", must_not_run)
    recorded = record_comparison(ml100k, pooled, save=False)
    assert recorded.fidelity is pooled.fidelity
    monkeypatch.undo()

    serial = run_experiment(ml100k, config, executor=SerialExecutor(), fidelity=True)
    assert serial.fidelity is None
    pd.testing.assert_frame_equal(record_comparison(ml100k, serial, save=False).fidelity, afterwards)
