"""Replicates on a real Ray cluster give byte-identical files to a local run.

Starts a Ray head on 127.0.0.1 with two worker CPUs (dashboard off) as a child process, runs the same 3-seed
ML-100k comparison locally and through ``RayExecutor(address)`` (what ``--executor ray --ray-address`` does),
writes both with the CLI's writer, compares every deterministic file byte for byte, and stops the head it
started (its own process group, nothing else).

Ray rewrites a loopback address to the machine's outward IP when it connects, so this single-node test cluster
runs with ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, Ray's switch for "this node only, on loopback", and without
Ray's token authentication (``RAY_AUTH_MODE=disabled``; a real cluster's drivers set ``RAY_AUTH_MODE=token``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.experiment.ray_executor import RayExecutor
from recaug.reporting.export import write_experiment

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

DETERMINISTIC = ("results.csv", "significance.csv", "augmented.csv", "split.csv")
# A throwaway single-node cluster on loopback: no multi-node addressing, no token authentication.
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_head(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``ray start --head --block`` in its own process group, so stopping it stops only what it started.

    Ray's session folder holds unix sockets, whose paths may not exceed 107 bytes: a short folder under /tmp.
    """
    port = free_port()
    session = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    command = [str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", "--disable-usage-stats"]
    command += ["--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2"]
    command += ["--include-dashboard", "false", "--temp-dir", session]
    head = subprocess.Popen(
        command,
        stdout=(tmp / "ray-head.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **LOOPBACK_ONLY, "PYTHONHASHSEED": "0"},
    )
    return head, f"127.0.0.1:{port}"


def stop_head(head: subprocess.Popen[bytes]) -> None:
    os.killpg(head.pid, signal.SIGTERM)
    try:
        head.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait(timeout=30)


def test_ray_cluster_results_are_byte_identical_to_local(
    ml100k: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ray._private import ray_constants

    monkeypatch.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)  # this driver also stays on loopback
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    config = ExperimentConfig(
        augmenters=["random", "popularity"],
        models=["pop", "itemknn"],
        seeds=[0, 1, 2],
        metrics=["ndcg", "recall"],
        ks=[10],
    )
    head, address = start_head(tmp_path)
    executor = RayExecutor(address)
    try:
        local = run_experiment(ml100k, config)
        deadline = time.monotonic() + 60
        while True:  # the head takes a few seconds to accept drivers
            try:
                remote = run_experiment(ml100k, config, executor=executor)
                break
            except ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(2)
    finally:
        executor.shutdown()
        stop_head(head)
    write_experiment(local, tmp_path / "local")
    write_experiment(remote, tmp_path / "ray")
    for name in DETERMINISTIC:
        a, b = (tmp_path / part / name for part in ("local", "ray"))
        assert a.read_bytes() == b.read_bytes(), name
    assert len(local.results) > 0 and set(local.results["seed"]) == {0, 1, 2}
    assert head.poll() is not None and not ray.is_initialized()
