"""``benchmarks/gpu.py`` is the device check prepared for a session that is lent a GPU (issue 18, item 6): it must
run as is. Here (no GPU) it writes the CPU rows only, with real timings on ML-100k."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_gpu_benchmark_runs_and_writes_its_table(tmp_path: Path) -> None:
    import torch

    out = tmp_path / "gpu.md"
    command = [sys.executable, "benchmarks/gpu.py", "--size", "ml-100k", "--epochs", "1", "--repeats", "1"]
    done = subprocess.run(
        [*command, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": "."},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in out.read_text().splitlines() if line.startswith("| ") and "---" not in line]
    cells = [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines[1:]]  # after the header row
    table = {(path, device): (seconds, note) for path, device, seconds, note in cells}
    devices = {"cuda", "cpu"} if torch.cuda.is_available() else {"cpu"}
    for path in ("bpr epoch", "lightgcn epoch", "full ranking (bpr's factors)", "full ranking (lightgcn's factors)"):
        for device in devices:
            seconds = float(table[(path, device)][0])
            assert 0.0 < seconds < 30.0, (path, device, seconds)
    assert ("als fit (15 iterations)", "cpu") in table
    assert "943 users x 1,682 items, 80,808 training interactions" in out.read_text()
