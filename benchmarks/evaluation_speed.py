"""How long a full-ranking evaluation of every ML-100k user takes, @10/20/50, all metrics, all slices.

Target (issue 4): under 0.5 s on 2 cores for all 943 users at @50 with every accuracy and beyond-accuracy metric.
The model's own scoring is timed separately, since it depends on the model, not on the evaluation.

    PYTHONPATH=. .venv/bin/python benchmarks/evaluation_speed.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from recaug.data.loading import load_dataset
from recaug.data.splits import make_split
from recaug.evaluate.catalog import ALL_METRICS, EXPERIMENT_KS
from recaug.evaluate.protocol import evaluate_model
from recaug.evaluate.slices import SliceContext, evaluate_sliced
from recaug.models import create_model


class Precomputed:
    """Wraps a score matrix so the timing below measures evaluation only."""

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = scores

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        return self.scores[user_indices]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    dataset, _ = load_dataset("ml-100k")
    split = make_split(dataset.interactions, "random-811", 0)
    train, valid, test = (dataset.matrix(p) for p in (split.train, split.valid, split.test))
    model = create_model("ease", reg_grid=()).fit(train)
    started = time.perf_counter()
    scores = model.score(np.arange(dataset.n_users))
    score_time = time.perf_counter() - started
    wrapped = Precomputed(scores)
    touched = split.train[split.train["user_idx"] % 4 == 0][["user_id"]]
    context = SliceContext.build(dataset, split, train, test, changed_rows={"aug": [touched]}, ks=EXPERIMENT_KS)
    timings: dict[str, list[float]] = {
        "rank + 4 metrics @10/20 (old default)": [],
        "rank + all 11 metrics @10/20/50 + every slice": [],
    }
    for _ in range(args.repeat):
        started = time.perf_counter()
        evaluate_model(wrapped, test, train + valid, ks=(10, 20))  # type: ignore[arg-type]
        timings["rank + 4 metrics @10/20 (old default)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        _, slices = evaluate_sliced(wrapped, test, train + valid, context, ALL_METRICS)  # type: ignore[arg-type]
        timings["rank + all 11 metrics @10/20/50 + every slice"].append(time.perf_counter() - started)
    print(
        f"ML-100k, {len(np.unique(split.test['user_idx']))} test users x {dataset.n_items} items, "
        f"{len(slices)} slices, median of {args.repeat}\n"
    )
    print("| step | seconds |\n|---|---|")
    print(f"| EASE scoring of all users (model, not evaluation) | {score_time:.3f} |")
    for name, values in timings.items():
        print(f"| {name} | {statistics.median(values):.3f} |")


if __name__ == "__main__":
    main()
