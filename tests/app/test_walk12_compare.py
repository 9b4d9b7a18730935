"""Walk 12 on the Compare page: the Ray head's start is a phase of its own on the bar (no time left counted down
while it starts); seeds added until decided say so on the bar while they run and the form names the seeds that
ran; the Seeds and Executor help say what a seed varies under the chosen protocol and what a task is."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from recaug.core.progress import ProgressClock
from recaug.data.dataset import Dataset
from recaug.data.splits import seed_effect
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.experiment.executor import SerialExecutor
from tests.app.conftest import app, no_errors  # noqa: F401  (the fixture is used by name)
from ui.compare_controller import start_executor, with_seed_stage
from ui.jobs import Job, start_job

# Pop on planted data augmented at random: a primary row undecided at 3 seeds, so seeds 3 and 4 are added (limit 7).
AUGMENTERS, MODELS, MAX_SEEDS = ["random"], ["pop"], 7
STAGE = "3 seeds: a primary row is undecided; adding seeds 3, 4"


class _SlowHead:
    """A Ray executor's start as the bar sees it: ``connect`` blocks until the test lets it go."""

    def __init__(self) -> None:
        self.go = threading.Event()

    def starting_text(self) -> str:
        return "starting Ray (local head on 127.0.0.1)"

    def connect(self) -> None:
        assert self.go.wait(30)


class _PricedClock(ProgressClock):
    """A clock that would always say '4 s left' (an earlier run's step costs), counting how often it is made."""

    made = 0

    def __init__(self) -> None:
        super().__init__()
        _PricedClock.made += 1

    def remaining(self, fraction: float) -> float | None:
        return 4.0


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_starting_ray_shows_no_time_left_and_the_clock_starts_after_it() -> None:
    head, steps = _SlowHead(), threading.Event()

    def work(progress: Callable[[float, str], None]) -> None:
        start_executor(head, progress)
        assert steps.wait(30)
        progress(0.1, "seed 0: augmented")

    _PricedClock.made = 0
    job = start_job("walk12-ray", "Training and evaluating", work, clock=_PricedClock)
    _wait_for(lambda: "starting Ray" in job.message)
    assert job.text() == "Training and evaluating — starting Ray (local head on 127.0.0.1)…"  # "4 s left" before
    head.go.set()
    _wait_for(lambda: "Ray is ready" in job.message)
    assert "left" not in job.text()  # up, but no step of this run has reported yet
    assert _PricedClock.made == 2  # the head's seconds are no step's: the clock started again after it
    steps.set()
    job.done.wait(30)
    assert job.error is None and job.text().endswith("seed 0: augmented · about 4 s left")


def test_seeds_added_until_decided_stay_on_the_bar_while_they_run(planted: Dataset) -> None:
    job = Job(kind="compare", label="Training and evaluating", clock=ProgressClock())
    seen: list[tuple[float, str]] = []

    def page(fraction: float, message: str) -> None:  # what the watching page draws at each step
        job.progress(fraction, message)
        seen.append((fraction, job.text()))

    config = ExperimentConfig(
        augmenters=AUGMENTERS,
        models=MODELS,
        seeds=[0, 1, 2],
        max_seeds=MAX_SEEDS,
        metrics=["ndcg", "recall"],
        ks=[10, 20],
        aa_control=False,
    )
    result = run_experiment(planted, config, executor=SerialExecutor(), progress=with_seed_stage(page))
    assert result.stopping is not None and list(result.stopping.seeds_run) == [0, 1, 2, 3, 4]
    texts = [text for _, text in seen]
    first = next(i for i, text in enumerate(texts) if STAGE in text)
    later = [text for fraction, text in seen[first + 1 :] if fraction < 1.0]
    assert later and all(text.startswith(f"Training and evaluating — {STAGE} — ") for text in later), later[:3]
    assert any("seed 3" in text for text in later)
    assert STAGE not in texts[-1]  # the run is done: no seeds are being added any more


def _compare_on_planted(app: AppTest, planted: Dataset, protocol: str = "random-811") -> None:  # noqa: F811
    app.session_state["dataset"] = planted
    app.session_state["augment_config"] = {
        "augmenters": AUGMENTERS,
        "budget": 0.1,
        "target": "all",
        "seed": 0,
        "protocol": protocol,
        "augmenter_params": {},
    }
    app.switch_page("pages/3_Compare.py").run()
    no_errors(app)


def test_the_form_names_the_seeds_that_ran_after_seeds_were_added(app: AppTest, planted: Dataset) -> None:  # noqa: F811
    _compare_on_planted(app, planted)
    app.multiselect(key="cmp_models").set_value(MODELS).run()
    app.number_input(key="cmp_max_seeds").set_value(MAX_SEEDS).run()
    before = _seeds_caption(app)
    assert "seeds **0, 1, 2**, adding seeds up to 7 while a primary row is undecided" in before
    app.button(key="run_compare").click().run()
    no_errors(app)
    assert app.session_state["experiment"].stopping.seeds_run == (0, 1, 2, 3, 4)
    caption = _seeds_caption(app)  # right after the run, not only after the next click
    assert "seeds **0–4 (3 fixed + 2 added until decided, limit 7)**" in caption, caption
    assert "0, 1, 2**" not in caption


def _seeds_caption(page: AppTest) -> str:
    return next(c.value for c in page.caption if c.value.startswith("Data **"))


@pytest.mark.parametrize("protocol", ["random-811", "temporal", "leave-last-out"])
def test_the_help_says_what_a_seed_varies_and_what_a_task_is(
    app: AppTest,  # noqa: F811
    planted: Dataset,
    protocol: str,
) -> None:
    _compare_on_planted(app, planted, protocol)
    seeds_help: Any = app.number_input(key="cmp_seeds").help
    assert seed_effect(protocol) in seeds_help and f"**{protocol}**" in seeds_help
    assert "re-splits the data" not in seeds_help
    executor_help = app.radio(key="cmp_executor").help
    assert "(seed, arm, model) fit is a task" in executor_help and "one worker per core" in executor_help
    assert "in this process" not in executor_help and "each seed is a task" not in executor_help
