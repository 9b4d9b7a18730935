"""Ctrl-C in the terminal during `python -m recaug compare` (walk 12): it printed a 30-frame traceback and lost the
finished seeds. The first Ctrl-C now stops at the next step and writes the finished seeds; nothing is left running."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil


def test_ctrl_c_keeps_the_finished_seeds_and_prints_no_traceback(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "recaug", "compare", "--augment", "random", "--models", "pop,bpr"]
    command += ["--seeds", "0,1,2,3,4,5,6,7", "--out", str(out), "--no-save", "--no-llm-estimate"]
    # Its own process group, as a terminal's foreground job: Ctrl-C reaches the driver and its pool workers alike.
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen.append(line)
        if re.search(r"seed [2-7]\b", line) or not line:  # lines come every 5 s: seeds 0 and 1 are in
            break
    children = psutil.Process(process.pid).children(recursive=True)
    os.killpg(process.pid, signal.SIGINT)
    errors = "".join(seen) + process.stderr.read()
    assert process.wait(timeout=120) == 130, errors
    assert "Traceback" not in errors and "stopping at the next step" in errors
    assert "stopped (Ctrl-C): writing the" in errors, errors
    kept = sorted(pd.read_csv(out / "results.csv")["seed"].unique())
    assert 1 <= len(kept) < 8 and set(kept) <= set(range(7))
    config = json.loads((out / "config.json").read_text())  # the run says it was cut short, and what was asked
    assert (
        config["stopped"].startswith("stopped by Ctrl-C after")
        and "seeds asked: 0, 1, 2, 3, 4, 5, 6, 7" in config["stopped"]
    )
    assert config["seeds_run"] == [int(s) for s in kept]
    time.sleep(1)
    assert not [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
