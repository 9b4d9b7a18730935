"""Fits on a real Ray cluster give byte-identical files to a local run; a failed fit is one line and a rerun
resumes from the finished ones; every socket the cluster listens on is on 127.0.0.1.

Starts a Ray head on 127.0.0.1 (two CPUs, dashboard off) as a child process, runs the same 3-seed ML-100k
comparison locally and through ``RayExecutor(address)`` (what ``--executor ray --ray-address`` does), writes both
with the CLI's writer, compares every deterministic file byte for byte, and stops the head it started (its own
process group, nothing else).

Two nodes: a second ``ray start --address`` on the same host needs Ray's cluster mode, which is refused under
the loopback switch and without it binds GCS, raylets and workers to every interface; so the two-node test runs
its cluster in a private network namespace (``unshare -n``), where loopback is the only interface
(``tests/ray_two_nodes.py``).

Ray rewrites a loopback address to the machine's outward IP when it connects, so this single-node test cluster
runs with ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, Ray's switch for "this node only, on loopback", and without
Ray's token authentication (``RAY_AUTH_MODE=disabled``; a real cluster's drivers set ``RAY_AUTH_MODE=token``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.experiment.ray_executor import RayExecutor
from recaug.reporting.export import write_experiment
from tests.ray_two_nodes import free_port, ray_node, stop

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

DETERMINISTIC = ("results.csv", "significance.csv", "augmented.csv", "split.csv", "selection.csv")
# A throwaway single-node cluster on loopback: no multi-node addressing, no token authentication.
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}


def start_node(tmp: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    """A node of the single-node test cluster: two CPUs, loopback only."""
    return ray_node(tmp / f"ray-{name}.log", {**os.environ, **LOOPBACK_ONLY, "PYTHONHASHSEED": "0"}, 2, *args)


def start_head(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A head (one CPU) on a free port. Ray's session folder holds unix sockets, whose paths may not exceed 107
    bytes: a short folder under /tmp."""
    port = free_port()
    session = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    head = start_node(tmp, "head", "--head", "--port", str(port), "--include-dashboard", "false", "--temp-dir", session)
    return head, f"127.0.0.1:{port}"


def port_open(address: str) -> bool:
    host, port = address.split(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) == 0


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {seconds:.0f} s for {what}")
        time.sleep(1)


def listening_addresses(roots: list[int]) -> list[str]:
    """Local addresses of the TCP sockets listened on by ``roots`` and their descendants (``ss -ltnp``)."""
    import psutil

    pids = set(roots)
    for root in roots:
        pids |= {child.pid for child in psutil.Process(root).children(recursive=True)}
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines() if any(f"pid={pid}," in line for pid in pids)]


def test_ray_cluster_results_are_byte_identical_to_local(
    ml100k: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ray._private import ray_constants

    from recaug.core.errors import RecaugInputError
    from recaug.experiment.executor import SerialExecutor
    from recaug.experiment.fit_cache import FitCache

    monkeypatch.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)  # this driver also stays on loopback
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    config = ExperimentConfig(
        augmenters=["random"],
        models=["pop", "bpr"],
        model_params={"bpr": {"max_epochs": 2}},
        seeds=[0, 1, 2],
        metrics=["ndcg", "recall"],
        ks=[10],
        primary=["ndcg@10"],
        aa_control=False,
    )
    broken = replace(config, model_params={"bpr": {"max_epochs": 2, "device": "nonsense"}})  # fails when fitting
    head, address = start_head(tmp_path)
    cache = FitCache(tmp_path / "fits")
    executor = RayExecutor(address, fit_cache=cache)
    try:
        local = run_experiment(ml100k, config, executor=SerialExecutor())
        wait_for(lambda: port_open(address), "the head to listen")
        with pytest.raises(RecaugInputError) as failure:
            run_experiment(ml100k, broken, executor=executor)
        addresses = listening_addresses([head.pid])
        assert addresses and all(a.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")) for a in addresses), addresses
        kept = cache.count()
        remote = run_experiment(ml100k, config, executor=executor)  # resumes: pop's fits come from the cache
    finally:
        executor.shutdown()
        stop(head)
    message = str(failure.value)
    assert "\n" not in message and "6 of 12 fits failed on ray" in message and "bpr on baseline" in message
    assert kept == 6 and cache.count() == 12  # the rerun computed only bpr's six fits
    write_experiment(local, tmp_path / "local")
    write_experiment(remote, tmp_path / "ray")
    for name in DETERMINISTIC:
        a, b = (tmp_path / part / name for part in ("local", "ray"))
        assert a.read_bytes() == b.read_bytes(), name
    assert len(local.results) > 0 and set(local.results["seed"]) == {0, 1, 2}
    assert head.poll() is not None and not ray.is_initialized()


def test_two_nodes_on_a_private_network_give_the_local_runs_bytes(tmp_path: Path) -> None:
    """A head and a second node (one CPU each) in a network namespace of their own, where loopback is the only
    interface: the CLI's ``--executor ray`` spreads the comparison's tasks over both nodes (the node ids it prints)
    and writes the same files, byte for byte, as a serial run (``tests/ray_two_nodes.py`` does the namespace
    side)."""
    import json

    refused = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True, check=False)
    if refused.returncode:
        pytest.fail(
            f"`unshare -n` was refused ({refused.stderr.strip() or refused.returncode}): this test needs a private "
            "network namespace (root, or unprivileged user namespaces) to run a two-node Ray cluster on loopback"
        )
    driver = Path(__file__).with_name("ray_two_nodes.py")
    env = {**os.environ, "PYTHONPATH": str(driver.parents[1])}
    done = subprocess.run(
        ["unshare", "-n", sys.executable, str(driver), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["interfaces"] == ["lo"] and report["nodes"] == 2, report
    assert report["ray_rc"] == 0 and report["local_rc"] == 0, (tmp_path / "ray.err").read_text()[-2000:]
    # "ray: 10 tasks on 2 nodes (id: n, id: m)": 2 seeds' augmentations + 2 seeds x 2 arms x 2 models' fits.
    assert report["placement"].startswith("ray: 10 tasks on 2 nodes ("), report["placement"]
    for name in DETERMINISTIC:
        a, b = (tmp_path / part / name for part in ("local", "ray"))
        assert a.read_bytes() == b.read_bytes(), name
