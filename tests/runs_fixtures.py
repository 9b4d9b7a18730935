"""A small but real comparison (ML-100k, cheap models, two seeds), shared by the run-store, report and export tests.

The whole catalog is kept on purpose: its text embeddings are already in the disk cache (other tests
encode them), while any subset of the catalog would cost a fresh encoding of ~1,000 texts.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from recaug.data.builtin import load_ml100k
from recaug.data.dataset import Dataset
from recaug.experiment import BASELINE, ExperimentConfig, ExperimentResult, run_experiment


@lru_cache(maxsize=1)
def small_experiment() -> tuple[Dataset, ExperimentResult]:
    """ML-100k, random augmentation, Pop and ItemKNN, seeds 0 and 1 (a few seconds)."""
    interactions, items = load_ml100k()
    dataset = Dataset.from_frames(interactions, items, name="ml-100k")
    config = ExperimentConfig(
        data="ml-100k", augmenters=["random"], models=["pop", "itemknn"], seeds=[0, 1], budget=0.05, target="all"
    )
    return dataset, run_experiment(dataset, config)


def significance_for(result: ExperimentResult) -> pd.DataFrame:
    """A significance table in the DESIGN.md schema, with values derived from the result's own rows."""
    rows = []
    frame = result.results[result.results["slice"] == "all"]
    mean = frame.groupby(["model", "variant", "slice", "metric", "k"], as_index=False)["value"].mean()
    base = mean[mean["variant"] == BASELINE].set_index(["model", "metric", "k"])["value"]
    for row in mean[mean["variant"] != BASELINE].itertuples():
        delta = row.value - base[(row.model, row.metric, row.k)]
        rows.append(
            {
                "model": row.model,
                "variant": row.variant,
                "slice": row.slice,
                "metric": row.metric,
                "k": row.k,
                "delta": delta,
                "ci_low": delta - 0.01,
                "ci_high": delta + 0.01,
                "p_ttest": 0.5,
                "p_wilcoxon": 0.5,
            }
        )
    return pd.DataFrame(rows)
