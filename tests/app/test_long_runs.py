"""The plans the time left is priced by follow the experiment's real steps (a drift here would misprice them)."""

from __future__ import annotations

import re

from recaug.data.builtin import load_ml100k
from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, run_augmenters, run_experiment
from ui.long_runs import augment_plan, comparison_plan

FIT = re.compile(r"^seed (\d+): fitting (\S+) on (.+)$")


def test_each_fit_message_falls_in_a_plan_step_of_its_model() -> None:
    interactions, items = load_ml100k()
    dataset = Dataset.from_frames(interactions, items, name="ml-100k")
    config = ExperimentConfig(
        data="ml-100k", augmenters=["random", "popularity"], models=["pop", "itemknn"], seeds=[0, 1], budget=0.02
    )
    plan = comparison_plan(config, "fp")
    seen: list[tuple[float, str]] = []
    run_experiment(dataset, config, progress=lambda fraction, message: seen.append((fraction, message)))
    fits = [(fraction, FIT.match(message)) for fraction, message in seen if FIT.match(message)]
    assert len(fits) == len(config.seeds) * 4 * len(config.models)  # baseline, A/A, two methods
    for fraction, match in fits:
        assert plan[int(fraction * len(plan) + 1e-9)] == f"fit {match[2]} on fp", (fraction, match[0])
    assert plan[:2] == ["augment random on fp", "augment popularity on fp"]  # each seed starts by augmenting

    steps: list[float] = []
    run_augmenters(dataset, config, 0, progress=lambda fraction, message: steps.append(fraction))
    methods = augment_plan(config, "fp")
    assert methods == ["augment random on fp", "augment popularity on fp"]
    assert any(0.5 < f < 1.0 for f in steps) and max(steps) == 1.0  # the second method fills the second half
