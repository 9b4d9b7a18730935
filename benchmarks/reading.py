"""Reading speed: a seeded long-tail interactions CSV (default 5M rows) read and indexed by recaug.

Target (issue #10): 5M rows read and indexed in <= 15 s. Run::

    .venv/bin/python benchmarks/reading.py [--rows 5000000] [--write benchmarks/reading.md]

Steps timed separately: ``read_interactions`` (pyarrow CSV parse + id/rating/timestamp checks) and
``Dataset.from_frames`` (dedupe + categorical user/item indexing). ``pandas.read_csv`` (C engine) is shown as
the peer on the same file.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")


def long_tail_csv(path: Path, rows: int, seed: int = 0) -> Path:
    """Power-law (long-tail) user activity and item popularity, ratings 1-5, Unix times (cached per size)."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    n_users, n_items = max(rows // 100, 10), max(rows // 250, 10)
    user_weight = 1 / np.arange(1, n_users + 1) ** 0.7
    item_weight = 1 / np.arange(1, n_items + 1) ** 0.9
    users = rng.choice(n_users, rows, p=user_weight / user_weight.sum())
    items = rng.choice(n_items, rows, p=item_weight / item_weight.sum())
    frame = pd.DataFrame(
        {
            "userId": rng.permutation(n_users)[users],
            "movieId": rng.permutation(n_items)[items],
            "rating": rng.integers(1, 11, rows) / 2,
            "timestamp": rng.integers(946_684_800, 1_700_000_000, rows),
        }
    )
    frame.to_csv(path, index=False)
    return path


def _timed(step: Callable[[], T]) -> tuple[T, tuple[float, float]]:
    """(result, (wall seconds, CPU seconds of this process)): CPU time shows the cost apart from other load."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--write", default=None, help="write the table as markdown to this path")
    args = parser.parse_args()
    from recaug.data.dataset import Dataset
    from recaug.data.readers import read_interactions

    path = long_tail_csv(Path(f"/tmp/recaug_reading_{args.rows}.csv"), args.rows)
    size = path.stat().st_size
    frame, read_s = _timed(lambda: read_interactions(path, max_bytes=4 * size))
    dataset, index_s = _timed(lambda: Dataset.from_frames(frame, name=path.name))
    _, pandas_s = _timed(lambda: pd.read_csv(path, dtype=str))
    load = os.getloadavg()
    rows = [
        ("read_interactions (pyarrow parse + checks)", *read_s),
        ("Dataset.from_frames (dedupe + categorical index)", *index_s),
        ("**read + index**", read_s[0] + index_s[0], read_s[1] + index_s[1]),
        ("peer: pandas.read_csv(dtype=str), parse only", *pandas_s),
    ]
    lines = [
        f"# Reading {args.rows:,} interactions ({size / 2**20:.0f} MB CSV)",
        "",
        f"{dataset.n_users:,} users × {dataset.n_items:,} items, {len(dataset.interactions):,} unique pairs. "
        f"Target: read + index ≤ 15 s. Load average while measuring: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"({os.cpu_count()} cores).",
        "",
        "| step | wall s | CPU s |",
        "|---|---:|---:|",
        *[f"| {name} | {wall:.1f} | {cpu:.1f} |" for name, wall, cpu in rows],
        "",
        f"Command: `.venv/bin/python benchmarks/reading.py --rows {args.rows}`",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        Path(args.write).write_text(text + "\n")


if __name__ == "__main__":
    main()
