"""Skeleton targets: model sanity on ML-100k random-811, and the default demo's latency.

Run: ``.venv/bin/python benchmarks/skeleton.py`` (prints markdown tables).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from recaug.data.loading import load_dataset
from recaug.experiment import BASELINE, ExperimentConfig, run_experiment


def model_table() -> pd.DataFrame:
    """Baseline Recall@10 / NDCG@10 of Pop, ItemKNN, BPR (seed 0) with fit times."""
    dataset, _ = load_dataset("ml-100k")
    config = ExperimentConfig(augmenters=[], models=["pop", "itemknn", "bpr"], seeds=[0])
    result = run_experiment(dataset, config)
    res = result.results
    frame = res[(res["variant"] == BASELINE) & (res["k"] == 10) & (res["slice"] == "all")]
    table = frame.pivot_table(index="model", columns="metric", values="value")[["recall", "ndcg"]]
    table["fit_s"] = [round(result.timings[f"fit:{m}:{BASELINE}:0"], 2) for m in table.index]
    return table.round(4)


def demo_latency() -> dict[str, float]:
    """Default demo (similarity, 3 models, 1 seed) as the Compare button runs it, step by step, then cached."""
    import tempfile

    from recaug.evaluate.significance import significance_table
    from recaug.reporting.runs import record_comparison
    from ui.cached import ResultStore, config_key

    timings: dict[str, float] = {}
    started = time.perf_counter()
    dataset, _ = load_dataset("ml-100k")
    config = ExperimentConfig(seeds=[0])
    result = run_experiment(dataset, config, keep_models=True)
    timings["augment + fit + evaluate"] = time.perf_counter() - started
    step = time.perf_counter()
    significance_table(result)
    timings["significance (bootstrap CIs)"] = time.perf_counter() - step
    step = time.perf_counter()
    with tempfile.TemporaryDirectory() as runs:
        record_comparison(dataset, result, save=True, root=runs)
    timings["fidelity + save run"] = time.perf_counter() - step
    timings["click to table, cold"] = time.perf_counter() - started
    store = ResultStore(4)
    store.put(config_key(dataset, config.to_dict()), result)
    step = time.perf_counter()
    assert store.get(config_key(dataset, config.to_dict())) is result
    timings["cached re-run lookup"] = time.perf_counter() - step
    return timings


if __name__ == "__main__":
    print("## Baselines on ML-100k, random-811, seed 0\n")
    print(model_table().to_string())
    print("\n## Default demo (Compare click)\n")
    for name, seconds in demo_latency().items():
        print(f"{name:<32} {seconds:8.3f} s")
