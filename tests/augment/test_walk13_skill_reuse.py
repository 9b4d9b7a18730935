"""Walk 13 (D): a comparison showed "skill check: 48/100 users scored" for ~50 s per seed after the Augment page had
said the check was "reused from the check measured earlier, no new LLM calls".

What happened: the check is kept per training split, and each seed of a random split is a new training split, so
each seed measured its own (which is right: seed 0's training rows hold some of seed 1's test rows) -- but the
progress did not say why. And a check was kept only in the process that measured it: where the seeds augment in
other processes (Ray's workers), in the next CLI run of the same comparison or in the dashboard after a restart,
the same check on the same split was measured again. A check that gave no verdict (its calls failed) was reused
too, so "check again" after fixing the server returned the old failure.

The server is the real HTTP stub in front of walk 12's scripted word scorer; the data is the tiny planted set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest

from recaug.augment import create_augmenter
from recaug.augment.base import AUGMENTERS
from recaug.augment.llm import skill
from recaug.augment.llm.llm_common import LLMAugmenter
from recaug.augment.llm.skill import SkillReport, SkillStore, check_skill
from recaug.data.dataset import Dataset, TrainingData
from recaug.data.splits import make_split
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.experiment.executor import ProcessExecutor
from recaug.text.llm.openai_http import OpenAIBackend
from tests.augment.test_walk12_llm import WordScorer
from tests.servers.openai_stub import OpenAIStub

USERS = np.arange(60)  # the planted set's users: the check holds one item out for 20 of them


@pytest.fixture()
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub(cast("Any", WordScorer()), slow_seconds=2.0) as server:
        yield server


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SkillStore:
    """A store of its own (memory and folder), as a fresh machine has; pool workers forked later inherit it."""
    fresh = SkillStore(tmp_path / "skill")
    monkeypatch.setattr(skill, "_CACHE", fresh)
    monkeypatch.setattr(skill, "_SEEN", set())
    return fresh


def training(data: Dataset, seed: int = 0, protocol: str = "random-811") -> TrainingData:
    return data.training_data(make_split(data.interactions, protocol, seed).train)


def judge_of(url: str, train: TrainingData, seed: int = 0, probe: bool = False, **options: Any) -> LLMAugmenter:
    """``llm-interactions`` on the stub; ``probe``: its scoring probed now (while the server is healthy), else at
    its first scoring call."""
    settings: dict[str, Any] = {"cache": False, "retry_base_delay": 0.01, "timeout": 30.0, "max_retries": 0}
    llm = OpenAIBackend(base_url=url, batch_size=8, **{**settings, **options})
    if probe:
        llm.check_scoring()
    made = create_augmenter("llm-interactions", backend=llm, item_noun="movie", batch_size=8, seed=seed)
    return cast("LLMAugmenter", made).fit(train)


def _check_in_worker(shared: tuple[str, TrainingData], seed: int) -> tuple[bool, pd.DataFrame, int]:
    """One seed's augmentation in a pool worker: its own backend and augmenter, then the check."""
    url, train = shared
    report = check_skill(judge_of(url, train, seed), rule="chance", users=USERS, n_users=20)
    return report.cached, report.table, report.calls


def test_pool_workers_measure_one_check_and_reuse_it(
    stub: OpenAIStub, store: SkillStore, planted: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three seeds of a fixed split on two worker processes at once: one measures, the others wait and read it."""
    train = training(planted)
    judge_of(stub.url, train, probe=True)  # the server's scoring is probed here once; workers forked later know it
    probed = len(stub.requests)
    outcomes = ProcessExecutor(2).map(_check_in_worker, [0, 1, 2], shared=(stub.url, train))
    pooled = len(stub.requests) - probed
    assert sorted(cached for cached, _, _ in outcomes) == [False, True, True]
    assert all(table.equals(outcomes[0][1]) for _, table, _ in outcomes)  # the same gate, byte for byte
    assert len({calls for _, _, calls in outcomes}) == 1 and outcomes[0][2] >= 20
    # The pool sent one check's requests: as many as measuring it once more here, from nothing.
    monkeypatch.setattr(skill, "_CACHE", {})
    fresh = check_skill(judge_of(stub.url, train), rule="chance", users=USERS, n_users=20)
    assert not fresh.cached  # a new store (another machine's): measured
    assert len(stub.requests) - probed - pooled == pooled
    assert fresh.table.equals(outcomes[0][1])  # reuse gives what measuring again gives


def test_a_seed_with_its_own_training_split_measures_its_own_check_and_says_why(
    stub: OpenAIStub, store: SkillStore, planted: Dataset
) -> None:
    said: list[str] = []
    first = check_skill(judge_of(stub.url, training(planted, 0)), rule="chance", users=USERS, n_users=20)
    other = check_skill(
        judge_of(stub.url, training(planted, 1), seed=1),
        rule="chance",
        users=USERS,
        n_users=20,
        progress=lambda fraction, message: said.append(message),
    )
    # Seed 1's random split is other training rows: its gate reads only them, never seed 0's (some are its test rows).
    assert not first.cached and not other.cached
    scored = [m for m in said if "users scored" in m]
    assert scored and all(m.startswith("skill check (new training split: measured again): ") for m in scored), said
    again = check_skill(judge_of(stub.url, training(planted, 1), seed=2), rule="encoder", users=USERS, n_users=20)
    assert again.cached and again.table.equals(other.table)  # the same split again: reused


def test_the_check_is_kept_by_the_times_that_pick_its_held_out_items(
    stub: OpenAIStub, store: SkillStore, planted: Dataset
) -> None:
    """Same rows, other times: each user's latest item (the one held out) differs, so it is another check."""
    split = make_split(planted.interactions, "random-811", 0).train
    first = check_skill(judge_of(stub.url, planted.training_data(split)), rule="chance", users=USERS, n_users=20)
    reversed_times = split.assign(timestamp=3_000 - split["timestamp"])
    other = check_skill(
        judge_of(stub.url, planted.training_data(reversed_times)), rule="chance", users=USERS, n_users=20
    )
    assert not first.cached and not other.cached


def test_a_check_without_a_verdict_is_measured_again(stub: OpenAIStub, store: SkillStore, planted: Dataset) -> None:
    """Its verdict says: fix the server, then check again. Again must measure, not return the old failure."""
    train = training(planted)
    slow = judge_of(stub.url, train, probe=True, timeout=0.5)  # probed before the server slowed down
    stub.always = "slow"  # every request answers after 2 s, past the 0.5 s timeout
    failed = check_skill(slow, rule="chance", users=USERS, n_users=20)
    assert not failed.measured and "could not be measured" in failed.verdict
    stub.always = None  # the server is back
    again = check_skill(judge_of(stub.url, train), rule="chance", users=USERS, n_users=20)
    assert not again.cached and again.measured and again.failed == 0


def _page_check(shared: tuple[Dataset, ExperimentConfig], _: int) -> SkillReport | None:
    """The Augment page's "Check skill now", in another process (a dashboard session before this one)."""
    from recaug.augment.llm.llm_estimate import check_llm_skill

    data, config = shared
    return check_llm_skill(data, config)


def test_a_comparison_reuses_a_check_measured_by_another_process_for_every_seed_and_method(
    stub: OpenAIStub, store: SkillStore, planted: Dataset
) -> None:
    llm = {"backend": "openai", "base_url": stub.url, "min_skill": "encoder", "skill_users": 20, "max_calls": 2}
    config = ExperimentConfig(
        data="planted",
        augmenters=["llm-interactions", "llm-cold-items"],
        models=["pop"],
        seeds=[0, 1],
        budget=4,
        protocol="temporal",  # a fixed split: every seed trains on the same rows
        augmenter_params={"llm-interactions": llm, "llm-cold-items": {**llm, "max_items": 2}},
    )
    (page,) = ProcessExecutor(2).map(_page_check, [0], shared=(planted, config))
    assert page is not None and not page.cached
    result = run_experiment(planted, config, executor=ProcessExecutor(2))
    checks = [info for info in result.augment_info if info.get("llm_skill")]
    assert [(i["augmenter"], i["seed"]) for i in checks] == [(m, s) for s in (0, 1) for m in config.augmenters]
    assert all(info.get("skill_cached") for info in checks), "every seed and method reused the page's check"
    assert all(pd.DataFrame(i["llm_skill"]).equals(page.table[skill.SKILL_COLUMNS]) for i in checks)
    assert all(i["llm_skill_passed"] == page.passed for i in checks)


def test_the_cold_items_description_says_what_the_default_does() -> None:
    """The picker said "ColdLLM-style ... yes/no"; the default is the one-pass FilterLLM route (README)."""
    described = AUGMENTERS.get("llm-cold-items").description
    assert described.startswith("FilterLLM") and "mode=judge" in described
    assert described.index("yes/no") > described.index("mode=judge")  # yes/no only as the judge mode
