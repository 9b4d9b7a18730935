"""A stop (issue #19): the progress callback raises Cancelled, compute lets it through, and what finished is kept."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from recaug.core.progress import Cancelled, note, reporting
from recaug.data.builtin import load_ml100k
from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, run_augmenters, run_experiment


@pytest.fixture(scope="module")
def ml100k() -> Dataset:
    interactions, items = load_ml100k()
    return Dataset.from_frames(interactions, items, name="ml-100k")


def _stop_when(text: str):
    def progress(fraction: float, message: str) -> None:
        if message.startswith(text):
            raise Cancelled("stopped by you")

    return progress


def test_a_stop_after_seed_0_keeps_the_finished_seeds_exactly(ml100k: Dataset) -> None:
    """Stop at the first message after seed 0's last fit was reported: seed 0 is kept, the last seed is not, and
    what is kept is exactly what running those seeds alone gives (fits run in a pool, so seed 1 may be done too)."""
    config = ExperimentConfig(data="ml-100k", augmenters=["random"], models=["pop"], seeds=[0, 1, 2], budget=0.02)
    fits_per_seed = 2  # baseline, random (the A/A control is opt-in)
    seed0_fits = []

    def progress(fraction: float, message: str) -> None:
        if len(seed0_fits) == fits_per_seed:
            raise Cancelled("stopped by you")
        if message.startswith("fitted") and message.split("seed ")[-1].startswith("0 "):
            seed0_fits.append(message)

    with pytest.raises(Cancelled) as stopped:
        run_experiment(ml100k, config, progress=progress)
    partial = stopped.value.partial
    assert stopped.value.reason == "stopped by you"
    kept = partial.config.seeds
    assert kept[0] == 0 and 2 not in kept and set(partial.results["seed"]) == set(kept)
    alone = run_experiment(ml100k, replace(config, seeds=kept))
    pd.testing.assert_frame_equal(partial.results, alone.results)  # the kept seeds are what running them gives
    assert len(partial.synthetic) == len(alone.synthetic) > 0


def test_a_stop_in_the_first_seed_keeps_nothing_and_is_not_swallowed(ml100k: Dataset) -> None:
    config = ExperimentConfig(data="ml-100k", augmenters=["random"], models=["pop"], seeds=[0, 1], budget=0.02)
    with pytest.raises(Cancelled) as stopped:
        run_experiment(ml100k, config, progress=_stop_when("seed 0: fitting"))
    assert stopped.value.partial is None


def test_a_stop_on_the_augment_page_keeps_the_finished_methods(ml100k: Dataset) -> None:
    config = ExperimentConfig(data="ml-100k", augmenters=["random", "popularity"], seeds=[0], budget=0.02)
    calls = []

    def progress(fraction: float, message: str) -> None:
        calls.append(fraction)
        if fraction > 0.5:  # popularity's share of the bar began: random is done
            raise Cancelled("stopped by you")

    with pytest.raises(Cancelled) as stopped:
        run_augmenters(ml100k, config, 0, progress=progress)
    assert list(stopped.value.partial) == ["random"] and len(stopped.value.partial["random"].rows) > 0


def test_notes_reach_the_installed_listener_and_can_stop() -> None:
    heard: list[str] = []
    note("nobody listens")  # no listener: nothing happens
    with reporting(heard.append):
        note("converting the packaged LLM once")
    assert heard == ["converting the packaged LLM once"]

    def stop(message: str) -> None:
        raise Cancelled("stopped by you")

    with reporting(stop), pytest.raises(Cancelled):
        note("embedding texts 64/1682")
