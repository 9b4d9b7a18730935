"""The LoRA-tuned SmolLM2 (issue 20): the REAL packaged model tuned on real ML-100k training histories, tiny budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recaug.augment.llm.llm_interactions import LLMInteractionsAugmenter
from recaug.augment.llm.skill import check_skill
from recaug.core.errors import RecaugInputError
from recaug.data.dataset import TrainingData
from recaug.text.llm import lora
from recaug.text.llm.local import LocalBackend
from recaug.text.tuning_cost import tuning_costs
from tests.servers.llm_fixtures import fresh_home, module_llm_home  # noqa: F401  (fixture)

# A few steps on short prompts: seconds, yet enough to move the model (the default trains 100x longer).
SMALL = lora.LoraSettings(steps=10, batch_size=4, layers=2, targets=("q_proj", "v_proj"), answers=3, learning_rate=1e-2)
HISTORY = 3


@pytest.fixture(scope="module")
def histories(ml100k_train: TrainingData, module_llm_home: Path) -> LLMInteractionsAugmenter:  # noqa: F811
    """An untuned llm-interactions fitted on the training split: its histories, titles and continuation prompt."""
    return LLMInteractionsAugmenter(item_noun="movie", history_size=HISTORY, max_calls=0).fit(ml100k_train)


def draw(aug: LLMInteractionsAugmenter, n: int, seed: int, answers: int) -> list[lora.Example]:
    return lora.next_item_examples(
        aug.history_items_, aug.titles_, aug.continuation_prompt, n=n, history_size=HISTORY, answers=answers, seed=seed
    )


def answer_logprobs(backend: LocalBackend, examples: list[lora.Example]) -> np.ndarray:
    """The scorer's log-likelihood of each example's (first) answer title."""
    return np.array([s.logprobs[0] for s in backend.score_many([p for p, _ in examples], [a[:1] for _, a in examples])])


def test_the_adapter_learns_the_next_titles_and_is_deterministic(
    histories: LLMInteractionsAugmenter,
    module_llm_home: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    train = draw(histories, SMALL.examples, seed=0, answers=SMALL.answers)
    seen = {(p, a[0]) for p, a in train}
    held = [e for e in draw(histories, 24, seed=1, answers=1) if (e[0], e[1][0]) not in seen]
    assert len(held) >= 20 and all(p.endswith("The next movie they will enjoy is:") for p, _ in train)
    assert sum(len(a) for _, a in train) > 2 * len(train)  # several next items per prompt
    base = LocalBackend(cache=False)
    folder = lora.tuned_adapter(base, train, seed=0, settings=SMALL)
    info = lora.adapter_info(folder)
    assert info["steps"] == SMALL.steps and info["examples"] == SMALL.examples and info["cpu_seconds"] > 0
    assert info["last_loss"] < info["first_loss"] - 0.3  # the training loss falls

    tuned = LocalBackend(cache=False, adapter=folder)
    assert tuned.model_id == f"{base.model_id}+lora:{folder.name}"  # answers are cached per adapter
    before, after = answer_logprobs(base, held), answer_logprobs(tuned, held)
    # Held-out training titles (examples it never saw) become more likely as next items.
    assert after.mean() > before.mean() + 0.5 and (after > before).mean() >= 0.7

    import torch

    weights = torch.load(folder / lora.ADAPTER_FILE, weights_only=True)
    assert lora.tuned_adapter(base, train, seed=0, settings=SMALL) == folder  # cached: no second training
    assert lora.adapter_info(folder) == info
    monkeypatch.setenv("RECAUG_HOME", str(fresh_home(tmp_path / "other-home")))
    again = lora.tuned_adapter(base, train, seed=0, settings=SMALL)  # trained again from scratch
    assert again != folder and again.name == folder.name
    again_weights = torch.load(again / lora.ADAPTER_FILE, weights_only=True)
    assert all(torch.equal(weights[k], again_weights[k]) for k in weights)  # same seed, same adapter
    assert lora.adapter_folder(base, train, 1, SMALL) != again  # another seed is another adapter


def test_llm_interactions_takes_the_tuned_model_and_its_skill_check_retunes_without_the_held_out_items(
    ml100k_train: TrainingData,
    module_llm_home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lora, "DEFAULT_SETTINGS", SMALL)
    aug = LLMInteractionsAugmenter(
        model="tuned", item_noun="movie", history_size=HISTORY, max_users=4, max_calls=0, seed=0
    ).fit(ml100k_train)
    assert aug.llm_.model_id.endswith(f"+lora:{Path(aug.llm_.adapter or '').name}")
    result = aug.augment(8)
    (tuning,) = tuning_costs(result.info)  # the training cost travels with the augmentation
    assert tuning["component"] == "tuned LLM" and tuning["steps"] == SMALL.steps and tuning["cpu_s"] > 0
    assert tuning["examples"] == SMALL.examples and tuning["interactions"] == ml100k_train.matrix.nnz
    assert result.info["users_prompted"] == 4 and len(result.rows) > 0

    skill = check_skill(aug, rule="chance", n_users=10)
    # The check's scorer is tuned on the reduced split (the run's adapter has seen the held-out items).
    assert "+lora:" in skill.llm_label and aug.llm_.model_id.split("+lora:")[1] not in skill.llm_label
    assert skill.calls >= 10
    (check_tuning,) = skill.tuning
    assert check_tuning["component"].startswith("tuned LLM (skill check")
    assert check_tuning["interactions"] == ml100k_train.matrix.nnz - 10 and not check_tuning["cached"]

    with pytest.raises(RecaugInputError, match="needs the local backend"):
        LLMInteractionsAugmenter(backend="openai", model="tuned", base_url="http://127.0.0.1:9").fit(ml100k_train)
