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
    frame = result.results[(result.results["variant"] == BASELINE) & (result.results["k"] == 10)]
    table = frame.pivot_table(index="model", columns="metric", values="value")[["recall", "ndcg"]]
    table["fit_s"] = [round(result.timings[f"fit:{m}:{BASELINE}:0"], 2) for m in table.index]
    return table.round(4)


def demo_latency() -> tuple[float, float]:
    """Default demo (similarity, 3 models, 1 seed): cold (fresh objects) and cached (dashboard store) seconds."""
    from ui.cached import ResultStore, config_key

    started = time.perf_counter()
    dataset, _ = load_dataset("ml-100k")
    config = ExperimentConfig()
    result = run_experiment(dataset, config, keep_models=True)
    cold = time.perf_counter() - started
    store = ResultStore(4)
    store.put(config_key(dataset, config.to_dict()), result)
    started = time.perf_counter()
    assert store.get(config_key(dataset, config.to_dict())) is result
    cached = time.perf_counter() - started
    return cold, cached


if __name__ == "__main__":
    print("## Baselines on ML-100k, random-811, seed 0\n")
    print(model_table().to_string())
    cold, cached = demo_latency()
    print(f"\n## Default demo\n\ncold: {cold:.1f} s · cached lookup: {cached * 1000:.1f} ms")
