"""Shared fixtures: real MovieLens-100k (from the installed package), its split and training view.

Session-scoped so the suite loads and splits the data once.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recaug.core.runtime import prefer_single_thread_on_small_machines
from recaug.data.builtin import load_ml100k
from recaug.data.dataset import Dataset, TrainingData
from recaug.data.splits import Split, make_split
from recaug.experiment import ExperimentConfig

# Before any test imports torch or transformers (they are imported lazily, inside functions).
prefer_single_thread_on_small_machines()
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Kill child processes a test left running and fail the run that left them.

    multiprocessing joins its non-daemon children at interpreter exit, so one stuck child would hold the whole
    run open until CI's limit, long after the summary was printed.
    """
    leftovers = multiprocessing.active_children()
    for child in leftovers:
        child.kill()
        child.join(10)
    if leftovers:
        names = ", ".join(f"{child.name} (pid {child.pid})" for child in leftovers)
        print(f"\nA test left child processes running; they were killed: {names}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def quick_config(**settings: Any) -> ExperimentConfig:
    """The quickest real comparison on ML-100k (one seed, pop, ``random`` at 2% for all users), with ``settings``
    changed: tests that need a real run's files or pages but not its verdicts."""
    base: dict[str, Any] = dict(
        data="ml-100k", augmenters=["random"], models=["pop"], seeds=[0], budget=0.02, target="all"
    )
    return ExperimentConfig(**{**base, **settings})


@pytest.fixture(scope="session")
def ml100k() -> Dataset:
    interactions, items = load_ml100k()
    return Dataset.from_frames(interactions, items, name="ml-100k")


@pytest.fixture(scope="session")
def ml100k_split(ml100k: Dataset) -> Split:
    return make_split(ml100k.interactions, "random-811", 0)


@pytest.fixture(scope="session")
def ml100k_train(ml100k: Dataset, ml100k_split: Split) -> TrainingData:
    return ml100k.training_data(ml100k_split.train)


def planted_interactions(
    n_users: int = 60, n_items: int = 40, n_groups: int = 3, per_user: int = 8, seed: int = 0
) -> pd.DataFrame:
    """Users in groups that each like their own block of items: a structure any real model must find."""
    rng = np.random.default_rng(seed)
    rows = []
    block = n_items // n_groups
    for user in range(n_users):
        group = user % n_groups
        liked = rng.choice(np.arange(group * block, (group + 1) * block), size=per_user, replace=False)
        rows.extend((f"u{user}", f"i{item}", 5.0, 1_000 + k) for k, item in enumerate(liked))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


@pytest.fixture()
def planted() -> Dataset:
    items = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(40)],
            "title": [f"Item {i}" for i in range(40)],
            "text": [f"group {i // 13} item number {i}" for i in range(40)],
        }
    )
    return Dataset.from_frames(planted_interactions(), items, name="planted")
