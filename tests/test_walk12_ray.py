"""Walk 12: a local Ray head started from a short-lived thread (the dashboard's job thread) outlives that thread and
still ends with the process; a Ray task's latest progress message always reaches the board.

Ray starts a local head's GCS and raylet with ``prctl(PR_SET_PDEATHSIG)``, which fires when the thread that started
them ends: started from the dashboard's job thread, the head died as the run ended and Ray's core worker then ended
the dashboard. The head test runs the driver in a child process (so its end can be observed): it connects from a
thread that exits, runs a second tiny map, reports its process family, and then exits normally (streamlit exits
so on Ctrl-C or SIGTERM). (After a hard kill the head's GCS, raylet and workers die at once with the owner thread;
Ray's two agents notice their raylet is gone, wait a minute for the dead GCS, and exit on their own.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from recaug.experiment import ray_executor
from tests.test_executor import listening_addresses

REPO = Path(__file__).resolve().parents[1]

DRIVER = """
import json, operator, sys, threading, time
import psutil
from recaug.experiment.ray_executor import RayExecutor

executor = RayExecutor(num_cpus=1, fit_cache=False)
starter = threading.Thread(target=executor.connect)  # a job thread: it ends once Ray is up
starter.start()
starter.join()
time.sleep(4)  # a head tied to the ended thread is SIGKILLed at once; the driver dies of it after 60 s
me = psutil.Process()
head = [p for p in me.children(recursive=True) if p.name() in ("gcs_server", "raylet")]
alive = bool(head) and all(p.status() != psutil.STATUS_ZOMBIE for p in head)
second = {}
if alive:  # the next comparison, from another job thread
    job = threading.Thread(target=lambda: second.update(sums=executor.map(operator.add, [1, 2], 10)))
    job.start()
    job.join(120)
family = [(p.pid, p.create_time()) for p in me.children(recursive=True)]
print(json.dumps({"head": len(head), "alive": alive, "sums": second.get("sums"), "family": family}), flush=True)
sys.stdin.read()  # until the test closes stdin: then the process ends as a stopped dashboard does (atexit runs)
"""


def _gone(family: list[tuple[int, float]]) -> list[int]:
    """The processes of ``family`` still running (a reused pid has another start time)."""
    left = []
    for pid, created in family:
        try:
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                left.append(pid)
        except psutil.NoSuchProcess:
            pass
    return left


@pytest.mark.slow
def test_a_head_started_from_a_thread_that_ends_lives_on_and_ends_with_the_process(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "driver.err").open("w"),
        text=True,
    )
    try:
        assert driver.stdout is not None
        line = driver.stdout.readline()
        assert line, (tmp_path / "driver.err").read_text()[-2000:]
        report: dict[str, Any] = json.loads(line)
        assert report["head"] == 2 and report["alive"], report  # GCS and raylet outlived the thread that started them
        assert report["sums"] == [11, 12], report  # and a later run from another thread works
        addresses = listening_addresses([driver.pid])
        assert addresses and all(a.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")) for a in addresses), addresses
    finally:
        assert driver.stdin is not None
        driver.stdin.close()
        try:
            driver.wait(60)
        except subprocess.TimeoutExpired:
            driver.kill()
            raise
    family = [(int(pid), float(created)) for pid, created in report["family"]]
    deadline = time.monotonic() + 30
    while (left := _gone(family)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, [psutil.Process(pid).cmdline()[:2] for pid in left]


class _Board:
    """A stand-in for the board actor: ``write.remote(task, message)`` records."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.write = self

    def remote(self, task: int, message: str) -> None:
        self.sent.append((task, message))


def test_a_tasks_latest_message_reaches_the_board_at_most_once_an_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ray_executor, "REPORT_EVERY_S", 0.3)
    board = _Board()
    relay = ray_executor._Relay(board, 7)
    relay(0.01, "BPR epoch 1")
    for epoch in range(2, 6):  # within the interval: held, each replacing the last
        relay(epoch / 100, f"BPR epoch {epoch}")
    assert board.sent == [(7, "BPR epoch 1")]
    time.sleep(0.6)  # the fit says nothing more for a while: the latest is sent when the interval is up
    assert board.sent == [(7, "BPR epoch 1"), (7, "BPR epoch 5")]
    time.sleep(0.4)
    relay(0.5, "BPR epoch 6")  # an interval after the last send: at once
    relay(0.6, "BPR epoch 7")
    relay.close()  # the task ended: its held message is not sent after it
    time.sleep(0.5)
    assert board.sent == [(7, "BPR epoch 1"), (7, "BPR epoch 5"), (7, "BPR epoch 6")]
