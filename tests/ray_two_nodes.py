"""Run inside a private network namespace (``unshare -n``) by ``tests/test_ray.py``: a Ray head and a second node
on 127.0.0.1, one CPU each, a small comparison through the CLI's ``--executor ray`` and the same one serially.

Inside the namespace loopback is the only interface, so Ray's multi-node mode (which binds its servers to every
interface) exposes nothing outside it. Prints one JSON line: the two runs' exit codes, the CLI's placement line
and the nodes Ray saw. Stops only the nodes it started (their process groups).

    unshare -n python tests/ray_two_nodes.py OUT_FOLDER
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMPARISON = ["--data", "ml-100k", "--augment", "random", "--models", "pop,als", "--seeds", "0,1"]
# Cluster mode (no "this node only" switch), no token authentication: a throwaway cluster in its own network.
ENV = {**{k: v for k, v in os.environ.items() if k != "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"}, "RAY_AUTH_MODE": "disabled"}


def fresh_home(home: Path) -> Path:
    """A ``RECAUG_HOME`` with an empty fit cache (every fit is computed, none read back) that shares the normal
    home's content-keyed caches (item-text embeddings, numba's compiled code), as the e2e tests' homes do."""
    from recaug.core.paths import recaug_home

    home.mkdir(parents=True, exist_ok=True)
    for kind in ("embeddings", "numba"):
        (recaug_home() / kind).mkdir(parents=True, exist_ok=True)
        (home / kind).symlink_to(recaug_home() / kind, target_is_directory=True)
    return home


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ray_node(log: Path, env: dict[str, str], cpus: int, *args: str) -> subprocess.Popen[bytes]:
    """``ray start --block`` on 127.0.0.1 with ``cpus`` CPUs, in its own process group (stopping the group stops
    only what it started), its output in ``log``."""
    command = [str(Path(sys.executable).with_name("ray")), "start", "--block", "--disable-usage-stats"]
    command += ["--node-ip-address", "127.0.0.1", "--num-cpus", str(cpus), *args]
    return subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True, env=env)


def alive_nodes(address: str) -> int:
    import ray

    ray.init(address=address, log_to_driver=False)
    try:
        return sum(1 for node in ray.nodes() if node["Alive"])
    finally:
        ray.shutdown()


def wait_for_nodes(address: str, count: int, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while True:
        try:
            seen = alive_nodes(address)
        except Exception:  # the head is not up yet
            seen = 0
        if seen >= count or time.monotonic() > deadline:
            return seen
        time.sleep(1)


def compare(out: Path, name: str, *executor: str) -> subprocess.Popen[str]:
    """The comparison through the CLI, started (its stderr goes to ``name``.err)."""
    command = [sys.executable, "-m", "recaug", "compare", *COMPARISON, *executor, "--out", str(out / name)]
    command += ["--no-save", "--runs-dir", str(out / f"runs-{name}")]
    err = (out / f"{name}.err").open("w")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, text=True, env=ENV)


def stop(node: subprocess.Popen[bytes]) -> None:
    """Stop a node started by :func:`ray_node`: its process group, nothing else."""
    os.killpg(node.pid, signal.SIGTERM)
    try:
        node.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(node.pid, signal.SIGKILL)
        node.wait(timeout=30)


def main() -> None:
    out = Path(sys.argv[1])
    ENV["RECAUG_HOME"] = str(fresh_home(out / "home"))
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    interfaces = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    report: dict[str, object] = {"interfaces": [line.split(":")[1].strip() for line in interfaces.splitlines()]}
    local = compare(out, "local", "--executor", "serial")  # meanwhile: it shares nothing with the cluster
    address = f"127.0.0.1:{free_port()}"
    session = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # unix socket paths must stay under 108 bytes
    head = ["--head", "--port", address.split(":")[1], "--include-dashboard", "false", "--temp-dir", session]
    nodes = [ray_node(out / "ray-head.log", ENV, 1, *head)]
    try:
        report["head_up"] = wait_for_nodes(address, 1)
        nodes.append(ray_node(out / "ray-second.log", ENV, 1, "--address", address))
        report["nodes"] = wait_for_nodes(address, 2)
        report["ray_rc"] = compare(out, "ray", "--executor", "ray", "--ray-address", address).wait(timeout=300)
    finally:
        for node in reversed(nodes):
            stop(node)
    report["local_rc"] = local.wait(timeout=300)
    placement = (out / "ray.err").read_text().splitlines()
    report["placement"] = next((line for line in placement if line.startswith("ray: ")), "")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
