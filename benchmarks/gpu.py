"""The CUDA paths timed once, next to the CPU paths on the same split (issue 18, item 6): one short device run.

Nothing in recaug needs a GPU: BPR and LightGCN take ``device="auto"`` (CUDA when torch sees one) and ALS uses
``implicit``'s GPU build when it has one. This script times, on one split of a ``scale_data.py`` size (or ML-100k):

* BPR: seconds per epoch (training only, no validation looks), CUDA's torch step vs the compiled CPU kernel;
* LightGCN: seconds per epoch, CUDA vs CPU torch;
* full ranking: every test user's scores (on the model's device) and their top-20 (the compiled CPU scan), i.e.
  what one evaluation of a fitted model costs;
* ALS: ``implicit``'s GPU fit where its build has CUDA (PyPI's wheels do not: the row says so).

Each device's number is the median of ``--repeats`` timed runs after an untimed one (imports, kernels, CUDA
context). The same command runs here (CPU rows only, as a check that the script works) and on a GPU machine:

    PYTHONPATH=. python benchmarks/scale_data.py 1m --out /tmp/recaug-scale
    PYTHONPATH=. python benchmarks/gpu.py --size 1m --out gpu.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def split_matrices(size: str) -> tuple[Any, Any, Any]:
    """(train, test, exclude) of seed 0's random-811 split: ML-100k or a ``scale_data.py`` size."""
    from recaug.data.loading import load_dataset
    from recaug.data.splits import make_split

    if size == "ml-100k":
        dataset, _ = load_dataset("ml-100k")
    else:
        folder = Path("/tmp/recaug-scale") / size
        if not (folder / "interactions.csv").exists():
            raise SystemExit(f"no {folder}/interactions.csv: run benchmarks/scale_data.py {size} first")
        dataset, _ = load_dataset(str(folder / "interactions.csv"), items=str(folder / "items.csv"))
    split = make_split(dataset.interactions, "random-811", 0)
    train, valid, test = (dataset.matrix(part) for part in (split.train, split.valid, split.test))
    return train, test, train + valid


def timed(
    work: Callable[[], Any], repeats: int, synchronise: Callable[[], None], warm: Callable[[], Any] | None = None
) -> tuple[float, Any]:
    """Median wall seconds of ``repeats`` runs after an untimed one (of ``warm`` when given, else of ``work``),
    and the last run's result."""
    result = None
    (warm or work)()
    synchronise()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        synchronise()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def torch_rows(train: Any, test: Any, exclude: Any, devices: list[str], epochs: int, repeats: int) -> list[dict]:
    """BPR and LightGCN per-epoch seconds and full-ranking seconds on each device."""
    import torch

    from recaug.evaluate.protocol import evaluate_model
    from recaug.models import create_model

    rows = []
    for device in devices:
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        for name in ("bpr", "lightgcn"):
            # CPU LightGCN propagates the whole graph at every batch (as RecBole's does): 30 s per epoch at 1M on
            # one thread, so one timed epoch there, warmed up on the first 200 users; everything else as asked.
            slow = name == "lightgcn" and device == "cpu"
            n_epochs = 1 if slow else epochs

            def fit(name: str = name, device: str = device, n_epochs: int = n_epochs, rows: Any = train) -> Any:
                return create_model(name, max_epochs=n_epochs, device=device).fit(rows)

            warm = partial(fit, n_epochs=1, rows=train[:200]) if slow else None
            seconds, model = timed(fit, 1 if slow else repeats, sync, warm)
            note = "1 epoch, 1 run" if slow else ""
            rows.append({"path": f"{name} epoch", "device": device, "seconds": seconds / n_epochs, "note": note})

            def rank(model: Any = model) -> Any:
                return evaluate_model(model, test, exclude, ks=(10, 20), metrics=("ndcg", "recall"))

            seconds, _ = timed(rank, repeats, sync)
            rows.append({"path": f"full ranking ({name}'s factors)", "device": device, "seconds": seconds})
    return rows


def als_rows(train: Any, repeats: int) -> list[dict]:
    """``implicit``'s ALS fit (15 iterations) on the GPU where its build has CUDA, and on the CPU."""
    try:
        import implicit.gpu
    except ImportError:
        return [{"path": "als fit", "device": "-", "seconds": float("nan"), "note": "implicit not installed"}]
    from threadpoolctl import threadpool_limits

    from recaug.models.als import implicit_als

    matrix = train.astype(np.float32).tocsr()
    rows = []
    for gpu in ([True] if implicit.gpu.HAS_CUDA else []) + [False]:

        def fit(gpu: bool = gpu) -> Any:
            with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, not BLAS's
                return implicit_als(64, 0.01, 1.0, 15, 0, gpu=gpu).fit(matrix, show_progress=False)

        seconds, _ = timed(fit, repeats, lambda: None)
        rows.append({"path": "als fit (15 iterations)", "device": "cuda" if gpu else "cpu", "seconds": seconds})
    if not implicit.gpu.HAS_CUDA:
        rows[-1]["note"] = "this implicit build has no CUDA (PyPI's wheels are CPU-only): no GPU row"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m", help="ml-100k or a scale_data.py size in /tmp/recaug-scale")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed fit (per-epoch time is reported)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="also write the table to this markdown file")
    args = parser.parse_args()
    import torch

    devices = (["cuda"] if torch.cuda.is_available() else []) + ["cpu"]
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    train, test, exclude = split_matrices(args.size)
    rows = torch_rows(train, test, exclude, devices, args.epochs, args.repeats) + als_rows(train, args.repeats)
    lines = [
        f"## CUDA paths ({args.size}: {train.shape[0]:,} users x {train.shape[1]:,} items, {train.nnz:,} training "
        f"interactions; GPU: {gpu}; torch {torch.__version__}; {os.cpu_count()} CPUs, {platform.processor() or '?'}"
        f"; load {os.getloadavg()[0]:.1f})",
        "",
        "| path | device | seconds | note |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r['path']} | {r['device']} | {r['seconds']:.3f} | {r.get('note', '')} |" for r in rows]
    text = "\n".join(lines) + f"\n\nMedian of {args.repeats} after an untimed run. `benchmarks/gpu.py`.\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
