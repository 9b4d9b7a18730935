"""A memorisation check travels with later runs of the same server model on the same catalogue (issue 20, item 5).

The check used to live only in Augment-page augmentations; a comparison (Compare page, CLI) said "run the check"
whether or not one had been run. Now the check's record is kept per model and catalogue, every LLM method run with
that model carries it in its info, and the comparison's note quotes it -- or says plainly that none was run.
Scripted backends that present themselves as a server; small planted data; a fresh cache.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from recaug.augment.llm.llm_interactions import LLMInteractionsAugmenter
from recaug.data.dataset import Dataset
from recaug.experiment.result import chosen_table, model_use_notes
from recaug.text.llm.memorisation import MemorisationCheck, keep_check, kept_check, memorisation_line
from tests.augment.test_llm_skill import Oracle


class Server(Oracle):
    """The scripted backend as the run info shows a server model (``backend`` "openai")."""

    kind = "openai"


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECAUG_HOME", str(tmp_path))
    return tmp_path


def notes(data: str, infos: list[dict]) -> list[str]:
    """What a comparison of ``data`` with these augmenter infos says (CLI, Compare page and report)."""
    result = SimpleNamespace(
        config=SimpleNamespace(
            data=data, models=["bpr"], augmenters=["llm-interactions"], protocol="random-811", target="light-users"
        ),
        synthetic=pd.DataFrame(),
        splits={},  # no split kept: no note on how many rows users got
        augment_info=infos,
        selection={},  # every validation user ranked: no sampling note
        chosen=chosen_table([]),  # nothing chosen on validation: no chosen notes
    )
    return model_use_notes(result)  # type: ignore[arg-type]


def test_a_kept_check_is_carried_by_later_runs_and_quoted(home: Path, planted: Dataset) -> None:
    train = planted.training_data(planted.interactions)
    augmenter = LLMInteractionsAugmenter(backend=Server({}), item_noun="movie", max_users=5).fit(train)
    before = augmenter.augment(5).info
    assert before["backend"] == "openai" and "memorisation" not in before
    (note,) = notes("ml-100k", [before])
    assert "public benchmark" in note and note.endswith(
        "No memorisation check was run on the openai model of this comparison."
    )
    assert notes("my-shop", [before]) == [], "no note on private data"

    check = MemorisationCheck(
        n_titles=40, n_options=5, hit_rate=0.55, ci_low=0.4, ci_high=0.7, calls=80, model="uniform"
    )
    keep_check(check, planted.items["title"].sample(frac=1.0, random_state=0))  # the catalogue, in any order
    assert kept_check("uniform", planted.items["title"]) == check.record()
    assert kept_check("another-model", planted.items["title"]) is None, "a check belongs to its model"
    assert kept_check("uniform", planted.items["title"].iloc[:-1]) is None, "and to its catalogue"

    after = augmenter.augment(5).info  # a later run with the same model on the same catalogue carries it
    assert after["memorisation"] == check.record()
    (quoted,) = notes("ml-100k", [after])
    assert quoted == f"Memorisation check of uniform on ml-100k: {check.line()}."
    assert "above chance" in quoted and "No memorisation check" not in quoted
    assert memorisation_line("ml-100k", "local", [after]) is None, "the packaged model gets no note"

    other = LLMInteractionsAugmenter(backend=Server({"-": "-"}), max_users=5).fit(train).augment(5).info
    assert other["model"] == "oracle" and "memorisation" not in other, "another server model: not its check"
