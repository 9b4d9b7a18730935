"""Click to verdict: the default comparison's wall and CPU time, serial and on the local process pool, side by side.

Each case runs the dashboard's default comparison on ML-100k (similarity; pop, itemknn, bpr; the A/A control) in
a fresh child process (``python -m recaug compare``, warm caches after one untimed run), so its wall time, the CPU
seconds of the process and its workers, and the load average before and after are measured the same way for
every case. The machine is shared: read ratios between cases of one run, with the load beside them.

    PYTHONPATH=. .venv/bin/python benchmarks/speed.py [--cases default-serial,default,seeds10] [--out speed.md]
    PYTHONPATH=. .venv/bin/python benchmarks/speed.py --cases "" --bpr 1m,3m   # BPR epoch vs implicit (scale_data)
    PYTHONPATH=. .venv/bin/python benchmarks/speed.py --cases "" --als ml-100k,1m   # ALS fit + validation vs implicit
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).with_name("speed.md")
DEFAULT = ["--augment", "similarity", "--models", "pop,itemknn,bpr"]
CASES: dict[str, list[str]] = {
    "default-serial": [*DEFAULT, "--seeds", "0,1,2", "--executor", "serial"],
    "default": [*DEFAULT, "--seeds", "0,1,2"],
    "default-aa": [*DEFAULT, "--seeds", "0,1,2", "--aa-control"],  # issue 18's target: 3 seeds + the A/A control
    "seeds10-serial": [*DEFAULT, "--seeds", ",".join(map(str, range(10))), "--executor", "serial"],
    "seeds10": [*DEFAULT, "--seeds", ",".join(map(str, range(10)))],
}


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def run_case(name: str, data: list[str]) -> dict[str, Any]:
    """One comparison in a child process: wall s, CPU s (its own and its workers'), load before and after."""
    with tempfile.TemporaryDirectory() as work:
        command = [sys.executable, "-m", "recaug", "compare", *data, *CASES[name], "--out", f"{work}/out"]
        command += ["--runs-dir", f"{work}/runs", "--quiet", "--no-save"]
        before = os.times()
        started_load, started = load(), time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {
        "case": name,
        "ok": done.returncode == 0,
        "error": done.stderr.strip().splitlines()[-1] if done.returncode else "",
        "wall_s": wall,
        "cpu_s": cpu,
        "load": f"{started_load} → {load()}",
    }


def scale_split(size: str) -> Any:
    """Seed 0's random-811 split of ``ml-100k`` (the packaged data) or a ``scale_data`` size in /tmp/recaug-scale."""
    from recaug.data.loading import load_dataset
    from recaug.data.splits import make_split

    if size == "ml-100k":
        dataset, _ = load_dataset("ml-100k")
    else:
        folder = Path("/tmp/recaug-scale") / size
        dataset, _ = load_dataset(str(folder / "interactions.csv"), items=str(folder / "items.csv"))
    return dataset, make_split(dataset.interactions, "random-811", 0)


def single_threaded() -> None:
    """One thread for torch, BLAS and ``implicit`` (as in a pool worker): CPU seconds then compare like for like."""
    import torch
    from threadpoolctl import threadpool_limits

    os.environ["RECAUG_FIT_THREADS"] = "1"
    torch.set_num_threads(1)
    threadpool_limits(1)


def bpr_epochs(size: str, epochs: int = 3) -> dict[str, Any]:
    """CPU s per BPR epoch, ours (compiled step, no validation) and ``implicit``'s (one thread), same split."""
    import numpy as np
    from implicit.bpr import BayesianPersonalizedRanking

    from recaug.models import create_model

    single_threaded()
    dataset, split = scale_split(size)
    train = dataset.matrix(split.train)
    started_load = load()
    create_model("bpr", max_epochs=1).fit(train)  # untimed: imports, compiled kernels
    BayesianPersonalizedRanking(factors=8, iterations=1, num_threads=1).fit(train, show_progress=False)
    started = time.process_time()
    create_model("bpr", max_epochs=epochs).fit(train)
    ours = (time.process_time() - started) / epochs
    peer = BayesianPersonalizedRanking(factors=64, iterations=epochs, random_state=0, num_threads=1)
    started = time.process_time()
    peer.fit(train.astype(np.float32), show_progress=False)
    theirs = (time.process_time() - started) / epochs
    return {"size": size, "nnz": train.nnz, "ours": ours, "implicit": theirs, "load": f"{started_load} → {load()}"}


def als_fits(size: str, repeats: int = 3) -> dict[str, Any]:
    """CPU s of our ALS fit with its validation (early stopping) against ``implicit``'s own fit of the same
    iterations, one thread each, interleaved ``repeats`` times (medians)."""
    import numpy as np

    from recaug.models import create_model
    from recaug.models.als import implicit_als

    single_threaded()
    dataset, split = scale_split(size)
    train, valid = dataset.matrix(split.train), dataset.matrix(split.valid)
    started_load = load()
    create_model("als", max_iterations=1).fit(train, valid)  # untimed: imports, compiled kernels
    ours, theirs = [], []
    for _ in range(repeats):
        started = time.process_time()
        model = create_model("als").fit(train, valid)
        ours.append(time.process_time() - started)
        iterations = model.history_[-1][0]
        peer = implicit_als(model.factors, model.reg, model.alpha, iterations, model.seed, gpu=False)
        started = time.process_time()
        peer.fit(train.astype(np.float32).tocsr(), show_progress=False)
        theirs.append(time.process_time() - started)
    return {
        "size": size,
        "nnz": train.nnz,
        "iterations": iterations,
        "looks": len(model.history_),
        "ours": float(np.median(ours)),
        "implicit": float(np.median(theirs)),
        "load": f"{started_load} → {load()}",
    }


def against_implicit(title: str, rows: list[dict[str, Any]]) -> list[str]:
    """A markdown table of ours vs ``implicit``'s CPU seconds, the ratio and the load, one row per size."""
    looks = "iterations" in rows[0]
    head = f"| {title} | interactions |{' iterations (looks) |' if looks else ''} ours CPU s | implicit CPU s |"
    lines = [head + " ratio | load |", "|---" * (head.count("|") + 1) + "|"]
    for row in rows:
        print(row, flush=True)
        done = f" {row['iterations']} ({row['looks']}) |" if looks else ""
        lines.append(
            f"| {row['size']} | {row['nnz']:,} |{done} {row['ours']:.3f} | {row['implicit']:.3f} | "
            f"{row['ours'] / row['implicit']:.2f} | {row['load']} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="default-serial,default,seeds10")
    parser.add_argument("--bpr", default="", help="scale_data sizes for the BPR epoch comparison, e.g. 1m,3m")
    parser.add_argument("--als", default="", help="sizes for the ALS fit comparison, e.g. ml-100k,1m")
    parser.add_argument("--data", default="ml-100k", help="the comparison's data: ml-100k or an interactions file")
    parser.add_argument("--items", default=None, help="the items file that goes with --data")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--no-warm", action="store_true", help="skip the untimed warm run (caches already warm from an earlier run)"
    )
    args = parser.parse_args()
    data = ["--data", args.data, *(["--items", args.items] if args.items else [])]
    lines = [f"## Speed ({os.cpu_count()} cores, shared; load averages 1 / 5 / 15 min before → after each row)", ""]
    if args.cases:
        if not args.no_warm:
            run_case("default", data)  # untimed: warm caches (text embeddings, numba, imports)
        lines += ["| case | wall s | CPU s (all processes) | ok | load |", "|---|---|---|---|---|"]
        for name in args.cases.split(","):
            row = run_case(name, data)
            print(row, flush=True)
            ok = "yes" if row["ok"] else f"no: {row['error']}"
            lines.append(f"| {name} | {row['wall_s']:.1f} | {row['cpu_s']:.1f} | {ok} | {row['load']} |")
    peers = {"bpr": (args.bpr, bpr_epochs, "BPR epoch"), "als": (args.als, als_fits, "ALS fit with validation")}
    for sizes, measure, title in peers.values():
        if sizes:
            lines += ["", *against_implicit(title, [measure(size) for size in sizes.split(",")])]
    text = (
        "\n".join(lines)
        + "\n\nProduced by `PYTHONPATH=. .venv/bin/python benchmarks/speed.py "
        + " ".join(sys.argv[1:])
        + "`.\n"
    )
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
