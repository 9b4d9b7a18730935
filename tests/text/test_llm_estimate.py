"""The pre-run cost estimate matches what the run then costs (issue 20: it said 1.5 min for a 10.8 s job, because it
scaled the augmentation's one-off work by the number of calls as if every call repeated it)."""

from __future__ import annotations

import time

import numpy as np

from recaug.augment import create_augmenter
from recaug.data.dataset import TrainingData
from recaug.text.llm.base import Generation, LLMBackend, Scores

SECONDS_PER_PROMPT = 0.01


class TimedBackend(LLMBackend):
    """A model that takes a known time per scored prompt (so the right estimate is known)."""

    kind = "timed"

    def __init__(self) -> None:
        super().__init__(model_id="timed", cache=False)

    def _generate(self, prompts: list[str], max_new_tokens: int, temperature: float, seed: int) -> list[Generation]:
        raise NotImplementedError

    def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        time.sleep(SECONDS_PER_PROMPT * len(prompts))
        return [Scores(-np.arange(len(options), dtype=float), tokens_in=10) for options in options_list]


def test_the_estimate_scales_the_model_time_not_the_one_off_work(ml100k_train: TrainingData) -> None:
    augmenter = create_augmenter(
        "llm-interactions", backend=TimedBackend(), target="all", max_users=300, max_calls=0, batch_size=8
    ).fit(ml100k_train)
    estimate = augmenter.estimate(600)
    started = time.perf_counter()
    result = augmenter.augment(600)
    took = time.perf_counter() - started
    # The plan counts a calibration call per 32 candidates; the run dedupes candidates across users, so it may
    # make a few fewer calls than planned, never more.
    assert estimate.calls >= result.info["calls"] > 300
    # The model's share alone is calls x 10 ms; the estimate must be near the real run, not a multiple of it.
    assert estimate.seconds >= estimate.calls * SECONDS_PER_PROMPT
    assert 0.5 * took <= estimate.seconds <= 2.0 * took, (estimate.seconds, took)
