"""Do the per-user / per-item caps change what an augmenter does to light users?

At +10% of the training interactions aimed at light users (the bottom quarter by activity), ``similarity`` gives
each light user about 31 synthetic rows, more than their real history, and CFGAN collapses onto a few popular
items. This runs the same comparison with the cap at each given value (0 = no cap) and reports Recall@20 / NDCG@20
deltas with paired-bootstrap CIs for all users and for the lightest quarter (``activity-q1``). Protocol: ML-100k,
random-811, seeds 0 1 2, BPR and ItemKNN early-stopped on validation, evaluated once on test.

    PYTHONPATH=. .venv/bin/python benchmarks/caps.py                                  # similarity, max_per_user
    PYTHONPATH=. .venv/bin/python benchmarks/caps.py --augmenter cfgan --option max_per_item --caps 0,10
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from recaug.core.runtime import prefer_single_thread_on_small_machines
from recaug.data.loading import load_dataset
from recaug.evaluate.significance import significance_from_results
from recaug.experiment import ExperimentConfig, run_experiment

SLICES = ("all", "activity-q1")
METRICS = ("recall", "ndcg")


def one_cap(augmenter: str, option: str, cap: int, seeds: list[int], models: list[str]) -> pd.DataFrame:
    """Deltas (augmented - baseline) with CIs for one cap, plus the synthetic rows it added."""
    dataset, _ = load_dataset("ml-100k")
    config = ExperimentConfig(
        augmenters=[augmenter],
        augmenter_params={augmenter: {option: cap}} if cap else {},
        models=models,
        seeds=seeds,
        ks=[20],
        metrics=list(METRICS),
    )
    started = time.perf_counter()
    result = run_experiment(dataset, config)
    significance = significance_from_results(result.results, result.slice_values)
    table = significance[significance["slice"].isin(SLICES) & significance["metric"].isin(METRICS)].copy()
    table["cap"] = f"{option}={cap}" if cap else "none"
    table["synthetic rows / seed"] = len(result.synthetic) / len(seeds)
    table["distinct items (all seeds)"] = result.synthetic["item_id"].nunique()
    table["seconds"] = round(time.perf_counter() - started, 1)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--caps", default="0,3,10")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default="bpr,itemknn")
    parser.add_argument("--augmenter", default="similarity")
    parser.add_argument("--option", default="max_per_user", choices=["max_per_user", "max_per_item"])
    args = parser.parse_args()
    prefer_single_thread_on_small_machines()
    seeds = [int(s) for s in args.seeds.split(",")]
    tables = [
        one_cap(args.augmenter, args.option, int(cap), seeds, args.models.split(","))
        for cap in args.caps.split(",")
        if cap != ""
    ]
    table = pd.concat(tables, ignore_index=True)
    columns = [
        "cap",
        "synthetic rows / seed",
        "distinct items (all seeds)",
        "model",
        "slice",
        "metric",
        "delta",
        "ci_low",
        "ci_high",
        "p_ttest",
    ]
    print(markdown_table(table[columns]))


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub table (pandas' ``to_markdown`` needs ``tabulate``, which the project does not install)."""
    cells = [[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


if __name__ == "__main__":
    main()
