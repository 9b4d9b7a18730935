"""Each seed is one replicate: a repeated seed, a negative one, none at all, or a seed limit below the seeds are
refused before any compute (walk 13: ``--seeds 0,0,1`` ran and gave a verdict from two distinct seeds)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.experiment.config import ExperimentConfig
from recaug.experiment.run import run_experiment
from tests.conftest import planted_interactions


@pytest.mark.parametrize(
    ("seeds", "max_seeds", "said"),
    [
        ([0, 0, 1], 0, "seed 0 is given twice"),
        ([], 0, "no seeds to run"),
        ([-1, 2, 3], 0, "seeds must be whole numbers 0 or above, got -1"),
        ([0, 1, 2], 2, "max_seeds 2 is below the 3 seeds given"),
    ],
)
def test_seeds_that_do_not_replicate_are_refused_before_any_fit(seeds: list[int], max_seeds: int, said: str) -> None:
    data = Dataset.from_frames(planted_interactions(n_users=30), name="planted")
    config = ExperimentConfig(augmenters=["random"], models=["pop"], seeds=seeds, max_seeds=max_seeds)
    with pytest.raises(RecaugInputError, match=said):
        run_experiment(data, config)


def test_distinct_seeds_and_a_limit_above_them_pass() -> None:
    ExperimentConfig(seeds=[0, 1, 2], max_seeds=3).check_seeds()
    ExperimentConfig(seeds=[4, 1, 2], max_seeds=9).check_seeds()


def test_unknown_target_ids_are_refused_before_any_fit() -> None:
    data = Dataset.from_frames(planted_interactions(n_users=30), name="planted")
    config = ExperimentConfig(augmenters=["random"], models=["pop"], target=["u1", "u2", "nobody"])
    with pytest.raises(RecaugInputError, match="1 of the 3 target user ids are not in the data: nobody"):
        run_experiment(data, config)
    with pytest.raises(RecaugInputError, match="unknown target 'heavy-users'"):
        run_experiment(data, replace(config, target="heavy-users"))
