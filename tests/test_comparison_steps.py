"""The plans the time left is priced by follow the experiment's real steps (a drift here would misprice them)."""

from __future__ import annotations

import re
from collections import Counter

from recaug.data.builtin import load_ml100k
from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, run_augmenters, run_experiment
from recaug.experiment.steps import augment_plan, comparison_plan, fitted_kind, scope

STEPS = re.compile(r"\((\d+) of (\d+) steps\)$")


def test_the_comparison_plan_counts_and_names_the_real_fits() -> None:
    interactions, items = load_ml100k()
    dataset = Dataset.from_frames(interactions, items, name="ml-100k")
    config = ExperimentConfig(
        data="ml-100k", augmenters=["random", "popularity"], models=["pop", "itemknn"], seeds=[0, 1], budget=0.02
    )
    plan = comparison_plan(config, "fp")
    seen: list[str] = []
    run_experiment(dataset, config, progress=lambda fraction, message: seen.append(message))
    totals = {int(m[2]) for message in seen if (m := STEPS.search(message))}
    assert totals == {len(plan)}  # the run counts the plan's steps
    fitted = Counter(kind for message in seen if (kind := fitted_kind(message, scope(config, "fp"))) is not None)
    planned = Counter(kind for kind in plan if kind.startswith("fit "))
    assert fitted == planned  # every fit the plan prices is one the run reports, as often
    # each seed starts by augmenting; kinds are priced per data and protocol (a cold-items fit is not a random-811 one)
    assert plan[:2] == ["augment random on fp · random-811", "augment popularity on fp · random-811"]

    steps: list[float] = []
    run_augmenters(dataset, config, 0, progress=lambda fraction, message: steps.append(fraction))
    assert augment_plan(config, "fp") == ["augment random on fp · random-811", "augment popularity on fp · random-811"]
    assert 0.5 in steps and max(steps) == 1.0  # the first method ends at half the bar, the second at the end


def test_seeds_added_until_decided_are_planned_as_the_bar_divides_them() -> None:
    """With ``max_seeds`` the bar gives each of the seeds that may run an equal share (``_seeds_until_decided``),
    so the plan prices all of them, not only the starting three."""
    config = ExperimentConfig(data="x", augmenters=["random"], models=["pop"], seeds=[0, 1, 2], max_seeds=6)
    assert len(comparison_plan(config, "fp")) == 6 * 3  # per seed: augment random, pop on baseline and on random


def test_an_augmenters_own_messages_name_its_arm_and_seed(ml100k: Dataset) -> None:
    """'CFGAN epoch 6/60' alone, restarting for every seed, read as the bar going back (user walk)."""
    from recaug.experiment.executor import SerialExecutor

    messages: list[str] = []
    config = ExperimentConfig(
        augmenters=["cfgan"], augmenter_params={"cfgan": {"epochs": 2}}, models=["pop"], seeds=[0, 1], aa_control=False
    )
    run_experiment(ml100k, config, executor=SerialExecutor(), progress=lambda _, message: messages.append(message))
    for seed in (0, 1):
        assert any(m.startswith(f"augmenting with cfgan, seed {seed} — CFGAN epoch 2/2") for m in messages), messages
