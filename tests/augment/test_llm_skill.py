"""The skill check before LLM spending: held-out training items, scorers on the same candidates, the gate.

Scripted backends of known skill (an oracle that knows each user's held-out item, one that ties every option)
run the real pipeline (continuation prompts, PMI calibration, bootstrap, verdict) on real ML-100k training data;
the sentence encoder is the packaged MiniLM.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recaug.augment import create_augmenter
from recaug.augment.llm.llm_interactions import LLMInteractionsAugmenter
from recaug.augment.llm.skill import (
    SKILL_COLUMNS,
    held_out_task,
    parse_min_skill,
    skill_notes,
    skill_table,
)
from recaug.core.errors import RecaugInputError
from recaug.data.dataset import TrainingData
from recaug.data.schema import TIMESTAMP
from recaug.text.llm.base import Generation, LLMBackend, Scores

N_USERS = 30


class Oracle(LLMBackend):
    """Scores an option 0 when it is the title named for that prompt, else -10; ties every calibration option.
    ``answers`` empty: every option ties (an LLM that knows nothing)."""

    kind = "scripted"

    def __init__(self, answers: dict[str, str]) -> None:
        super().__init__(model_id="oracle" if answers else "uniform", cache=False)
        self.answers = answers

    def _generate(self, prompts: list[str], max_new_tokens: int, temperature: float, seed: int) -> list[Generation]:
        return [Generation("keywords: drama") for _ in prompts]

    def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        return [
            Scores(np.array([0.0 if self.answers.get(p) == o else -10.0 for o in options]))
            for p, options in zip(prompts, options_list, strict=True)
        ]


@pytest.fixture(scope="module")
def task(ml100k_train: TrainingData):
    """The check the augmenters below run: their target is the first 40 users."""
    return held_out_task(ml100k_train, np.arange(40), n_users=N_USERS, seed=0)


@pytest.fixture(scope="module")
def oracle(ml100k_train: TrainingData, task) -> Oracle:
    """Knows the held-out item of each check user: the prompt the check will send maps to its title."""
    writer = LLMInteractionsAugmenter(backend=Oracle({}), item_noun="movie").fit(task.train)
    answers = {
        writer.continuation_prompt(writer.recent_history(int(u))): str(writer.titles_[h])
        for u, h in zip(task.users, task.held, strict=True)
    }
    return Oracle(answers)


def test_held_out_items_come_from_training_and_are_hidden_from_the_scorers(ml100k_train, task):
    assert len(task.users) == N_USERS and task.candidates.shape == (N_USERS, 10)
    for k, user in enumerate(task.users):
        full = set(ml100k_train.history(int(user)).tolist())
        left = set(task.train.history(int(user)).tolist())
        assert task.held[k] in full and task.held[k] not in left  # a training item, removed from what scorers see
        assert left == full - {task.held[k]}
        cands = task.candidates[k].tolist()
        assert cands.count(task.held[k]) == 1 and len(set(cands)) == 10
        assert not (set(cands) - {task.held[k]}) & full  # the other candidates are unseen
        assert ml100k_train.item_visible()[cands].all()
        # the latest training item by time is the one held out
        rows = ml100k_train.interactions[ml100k_train.interactions["user_idx"] == user]
        assert rows[TIMESTAMP].max() == rows.loc[rows["item_idx"] == task.held[k], TIMESTAMP].max()
    assert len(task.train.interactions) == len(ml100k_train.interactions) - N_USERS
    again = held_out_task(ml100k_train, np.arange(40), n_users=N_USERS, seed=0)
    assert np.array_equal(again.candidates, task.candidates)  # same seed, same task


def test_an_llm_that_knows_passes_and_one_that_does_not_is_skipped(ml100k_train, oracle):
    users = [str(u) for u in ml100k_train.user_ids[:40]]
    common = {"target": users, "skill_users": N_USERS, "item_noun": "movie", "min_skill": "encoder"}
    knows = create_augmenter("llm-interactions", backend=oracle, **common).fit(ml100k_train)
    result = knows.augment(20)
    skill = pd.DataFrame(result.info["llm_skill"]).set_index("scorer")
    assert list(skill.reset_index().columns) == SKILL_COLUMNS
    assert skill.loc["llm", "hit_rate"] == 1.0 and skill.loc["chance", "hit_rate"] == 0.1
    assert 0.0 <= skill.loc["encoder", "hit_rate"] < 0.6  # MiniLM on real titles: better than nothing, not perfect
    assert result.info["llm_skill_passed"] and result.info["calls"] > 0  # it passed, so it spent
    assert result.info["skill_calls"] >= N_USERS  # one call per check user, plus calibration

    blind = create_augmenter("llm-interactions", backend=Oracle({}), **common).fit(ml100k_train)
    skipped = blind.augment(20)
    assert skipped.info["llm_skill"][0]["hit_rate"] == pytest.approx(0.1)  # all ties: chance exactly
    assert not skipped.info["llm_skill_passed"] and "not better than chance" in skipped.info["llm_skill_verdict"]
    assert skipped.info["calls"] == 0 and len(skipped.rows) == 0
    assert "failed the skill check" in skipped.info["budget_note"]
    notes = skill_notes([{**skipped.info, "seed": 0}])
    assert len(notes) == 1 and "made no LLM calls" in notes[0]

    insisted = create_augmenter("llm-interactions", backend=Oracle({}), insist=True, **common).fit(ml100k_train)
    spent = insisted.augment(20)
    assert not spent.info["llm_skill_passed"] and spent.info["calls"] > 0  # the user insisted: it spends
    assert "ran anyway" in skill_notes([spent.info])[0]

    table = skill_table([{**result.info, "seed": 0}, {**skipped.info, "seed": 1}, {**spent.info, "seed": 1}])
    assert table is not None and list(table.columns) == [*SKILL_COLUMNS, "seed"]
    assert len(table) == 8  # one check per seed, however many variants shared it


def test_llm_init_without_the_llm_step_runs_no_check(ml100k_train):
    init = create_augmenter("llm-init", backend=Oracle({}), enrich=False, min_skill="encoder").fit(ml100k_train)
    info = init.augment(1).info
    assert "llm_skill" not in info and info["calls"] == 0
    assert info["items_with_start_vectors"] > 0


def test_min_skill_values():
    assert parse_min_skill("Encoder") == "encoder" and parse_min_skill("0.25") == 0.25
    for bad in ("always", "1.5", "0"):
        with pytest.raises(RecaugInputError, match="skill rule"):
            parse_min_skill(bad)
