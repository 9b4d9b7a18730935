"""How close BPR's compiled epoch is to the memory floor of its own row touches, next to ``implicit``'s epoch.

The floor replays an epoch's row touches exactly as the kernel makes them (each batch: every distinct user and item
row read and written once at its first touch, then once more in the Adam pass; same prefetching, same
frequency-ordered state rows of 3 x 64 float32) but does no arithmetic beyond one add or multiply per value. What
the kernel costs above it is its arithmetic; the floor itself is the memory traffic that Adam's per-row state
(factors and two moments: 768 bytes a row) makes on this machine. ``implicit`` (SGD, one 65-float row per entity,
a third of the bytes) is timed on the same split, one thread each.

    PYTHONPATH=. .venv/bin/python benchmarks/bpr_floor.py 1m,1m-wide,3m,1m-longtail [--epochs 4]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
from numba import njit

from benchmarks.speed import load, scale_split, single_threaded
from recaug.models.bpr_kernel import AHEAD, CompiledBPRTrainer, prefetch_state
from recaug.models.bpr_sampling import BPRSampler


@njit(cache=True, nogil=True)
def first_touches(state, row, marks, rows, count, step):  # type: ignore[no-untyped-def]
    """The kernel's first touch of ``row`` in a batch: read and write its whole state row once."""
    if marks[row] == step:
        return count
    marks[row] = step
    rows[count] = row
    for k in range(state.shape[1]):
        state[row, k] += np.float32(1e-7)
    return count + 1


@njit(cache=True, nogil=True)
def second_touches(state, rows, count):  # type: ignore[no-untyped-def]
    """The kernel's Adam pass: every row the batch touched, read and written once more, prefetched ahead."""
    for r in range(count):
        if r + AHEAD < count:
            prefetch_state(state, rows[r + AHEAD])
        for k in range(state.shape[1]):
            state[rows[r], k] *= np.float32(0.999999)


@njit(cache=True, nogil=True, inline="always")
def prefetch_triple(user_state, item_state, user, positive, negative):  # type: ignore[no-untyped-def]
    """The three rows of one triple, as the kernel prefetches them."""
    prefetch_state(user_state, user)
    prefetch_state(item_state, positive)
    prefetch_state(item_state, negative)


@njit(cache=True, nogil=True)
def touch_epoch(user_state, item_state, users, positives, negatives, batch_size, user_marks, item_marks):  # type: ignore[no-untyped-def]
    """One epoch of row touches without BPR's arithmetic; returns the number of (row, batch) touches."""
    user_rows = np.empty(batch_size, np.int64)
    item_rows = np.empty(2 * batch_size, np.int64)
    total = 0
    n = len(users)
    for step, start in enumerate(range(0, n, batch_size)):
        end = min(start + batch_size, n)
        count_u = 0
        count_i = 0
        for s in range(start, end):
            if s + AHEAD < end:  # the kernel's prefetch: the rows of the triple AHEAD places on
                prefetch_triple(user_state, item_state, users[s + AHEAD], positives[s + AHEAD], negatives[s + AHEAD])
            count_u = first_touches(user_state, users[s], user_marks, user_rows, count_u, step)
            count_i = first_touches(item_state, positives[s], item_marks, item_rows, count_i, step)
            count_i = first_touches(item_state, negatives[s], item_marks, item_rows, count_i, step)
        second_touches(user_state, user_rows, count_u)
        second_touches(item_state, item_rows, count_i)
        total += count_u + count_i
    return total


def measure(size: str, epochs: int) -> dict[str, Any]:
    """Median CPU s per epoch of the kernel, its touch-only floor (same triples) and ``implicit``, one thread."""
    from implicit.bpr import BayesianPersonalizedRanking

    single_threaded()
    dataset, split = scale_split(size)
    train = dataset.matrix(split.train)
    n_users, n_items = train.shape
    sampler = BPRSampler(train)
    counts = (np.diff(train.indptr), np.bincount(train.indices, minlength=n_items))
    rng = np.random.default_rng(0)
    tables = [(rng.standard_normal((n, 64)) * np.sqrt(2.0 / (n + 64))).astype(np.float32) for n in (n_users, n_items)]
    trainer = CompiledBPRTrainer(tables[0], tables[1], 0.001, 1e-5, counts=counts)
    user_rank, item_rank = trainer.ranks
    floor_states = (np.zeros((n_users, 192), np.float32), np.zeros((n_items, 192), np.float32))
    started_load = load()
    kernel, floor = [], []
    touches = 0
    for epoch in range(epochs + 1):  # the first epoch of each is untimed (compiled code loaded, pages mapped)
        users, positives, negatives = sampler.epoch_triples(rng)
        started = time.process_time()
        trainer.epoch(users, positives, negatives, 2048)
        if epoch:
            kernel.append(time.process_time() - started)
        ranked = (user_rank[users], item_rank[positives], item_rank[negatives])
        marks = (np.full(n_users, -1, np.int64), np.full(n_items, -1, np.int64))
        started = time.process_time()
        touches = touch_epoch(*floor_states, *ranked, 2048, *marks)
        if epoch:
            floor.append(time.process_time() - started)
    BayesianPersonalizedRanking(factors=8, iterations=1, num_threads=1).fit(train, show_progress=False)
    peer = BayesianPersonalizedRanking(factors=64, iterations=epochs, random_state=0, num_threads=1)
    started = time.process_time()
    peer.fit(train.astype(np.float32), show_progress=False)
    theirs = (time.process_time() - started) / epochs
    return {
        "size": size,
        "shape": f"{n_users:,} x {n_items:,}",
        "nnz": train.nnz,
        "touches": touches / train.nnz,
        "kernel": float(np.median(kernel)),
        "floor": float(np.median(floor)),
        "implicit": theirs,
        "load": f"{started_load} → {load()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", help="scale_data sizes in /tmp/recaug-scale, comma-separated")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    lines = [
        f"| size | users x items | interactions | row touches per triple | kernel CPU s | floor CPU s | kernel / floor "
        f"| implicit CPU s | kernel / implicit | load |  ({os.cpu_count()} cores)",
        "|---" * 10 + "|",
    ]
    for size in args.sizes.split(","):
        row = measure(size, args.epochs)
        print(row, flush=True)
        lines.append(
            f"| {row['size']} | {row['shape']} | {row['nnz']:,} | {row['touches']:.2f} | {row['kernel']:.3f} | "
            f"{row['floor']:.3f} | {row['kernel'] / row['floor']:.2f} | {row['implicit']:.3f} | "
            f"{row['kernel'] / row['implicit']:.2f} | {row['load']} |"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
