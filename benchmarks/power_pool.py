"""The pool of per-seed results that ``benchmarks/power.py`` resamples (issue 17).

Each (dataset, protocol) runs seeds ``0..N-1`` once with the CLI's real defaults (models pop, itemknn, bpr at their
defaults, BPR with early stopping; every metric and slice) and the arms baseline, A/A control, ``random@1`` (the CLI's
default target, light users) and ``edge-dropout@10%`` aimed at all users (10% of the training edges removed: a real
harm). Every seed's tidy result rows and the per-user values of the primary rows are cached on disk, one file per
seed, so an interrupted pool resumes and the analysis never refits.

    PYTHONPATH=. .venv/bin/python benchmarks/power_pool.py --data ml-100k --protocol random-811 --seeds 24
    PYTHONPATH=. .venv/bin/python benchmarks/power_pool.py --data generated-100k --protocol random-811 --seeds 16
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from recaug.core.runtime import prefer_single_thread_on_small_machines
from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, run_seed

POOL_ARMS = ["random@1", "edge-dropout@10%"]
PRIMARY_SLICES = ("all", "activity-q1")
PRIMARY_KEYS = (("ndcg", 10), ("recall", 20))
CACHE = Path(os.environ.get("RECAUG_HOME", Path.home() / ".cache" / "recaug")) / "benchmarks" / "power_pool"


def pool_config() -> ExperimentConfig:
    """The CLI's defaults with the pool's arms and the A/A control (opt-in since session 6; the pool keeps it)."""
    return ExperimentConfig(
        augmenters=list(POOL_ARMS), augmenter_params={"edge-dropout": {"target": "all"}}, aa_control=True
    )


def load_data(name: str) -> Dataset:
    """ML-100k (installed package) or the seeded MovieLens-like generated set of ``benchmarks/scale_data.py``."""
    if name == "ml-100k":
        from recaug.data.builtin import load_ml100k

        interactions, items = load_ml100k()
        return Dataset.from_frames(interactions, items, name=name)
    if name == "generated-100k":
        from benchmarks.scale_data import SIZES, generate

        interactions, items = generate(SIZES["100k"], seed=0)
        return Dataset.from_frames(interactions, items, name=name)
    raise SystemExit(f"unknown data {name}")


def seed_file(data: str, protocol: str, seed: int) -> Path:
    return CACHE / data / protocol / f"seed{seed:03d}.pkl"


def run_pool_seed(dataset: Dataset, data: str, protocol: str, seed: int) -> dict[str, Any]:
    """One seed's rows and per-user primary values (cached)."""
    path = seed_file(data, protocol, seed)
    if path.exists():
        return pickle.loads(path.read_bytes())
    config = pool_config()
    config.protocol = protocol
    started = time.perf_counter()
    outcome = run_seed(dataset, config, seed)
    users = {
        (model, variant, seed, name, metric, k): (values.users.astype(np.int32), values.values[(metric, k)])
        for (model, variant, seed), slices in outcome.slice_values.items()
        for name, values in slices.items()
        if name in PRIMARY_SLICES
        for metric, k in PRIMARY_KEYS
        if (metric, k) in values.values
    }
    record = {
        "rows": outcome.rows,
        "users": users,
        "seconds": time.perf_counter() - started,
        "load": os.getloadavg(),
        "when": time.strftime("%H:%M:%S", time.gmtime()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(record))
    tmp.replace(path)
    return record


def main() -> None:
    prefer_single_thread_on_small_machines()
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="ml-100k")
    parser.add_argument("--protocol", default="random-811")
    parser.add_argument("--seeds", type=int, default=24)
    parser.add_argument("--start", type=int, default=0)
    args = parser.parse_args()
    dataset = load_data(args.data)
    for seed in range(args.start, args.seeds):
        record = run_pool_seed(dataset, args.data, args.protocol, seed)
        print(
            f"{args.data} {args.protocol} seed {seed}: {record['seconds']:.1f} s at {record['when']} UTC, "
            f"load {' / '.join(f'{x:.1f}' for x in record['load'])}",
            flush=True,
        )


if __name__ == "__main__":
    main()
