"""The pipeline as one call: config, per-seed runs (locally or on Ray), results and cost.

``from recaug.experiment import run_experiment, ExperimentConfig`` is the public entry point.
"""

from recaug.experiment.config import AA_SEED_OFFSET, BASELINE, RESULT_COLUMNS, ExperimentConfig
from recaug.experiment.result import ExperimentResult, SeedOutcome, compare_table
from recaug.experiment.run import (
    augment_training,
    run_augmenters,
    run_experiment,
    run_seed,
    with_titles,
    without_removed,
)

__all__ = [
    "AA_SEED_OFFSET",
    "BASELINE",
    "RESULT_COLUMNS",
    "ExperimentConfig",
    "ExperimentResult",
    "SeedOutcome",
    "augment_training",
    "compare_table",
    "run_augmenters",
    "run_experiment",
    "run_seed",
    "with_titles",
    "without_removed",
]
