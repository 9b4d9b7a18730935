"""The new-item what-if through the real packaged LLM: llm-cold-items judges users for an item not in the catalog."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recaug.augment import create_augmenter
from recaug.augment.base import NotFittedError
from recaug.data.dataset import TrainingData
from recaug.text.llm.parsing import display_title
from tests.servers.llm_fixtures import llm_home  # noqa: F401  (fixture)

SCI_FI = "Space Rescue (1997). Genres: Action, Adventure, Sci-Fi."


def _users_by_genre(train: TrainingData, genre: str, n: int, most: bool) -> np.ndarray:
    """Users whose training history has the largest (or smallest) share of ``genre`` items."""
    has_genre = train.items["text"].str.contains(genre).to_numpy().astype(float)
    share = np.asarray(train.matrix @ has_genre).ravel() / np.maximum(train.user_degree(), 1)
    order = np.argsort(-share if most else share, kind="stable")
    return order[:n]


def test_judge_new_item_with_the_packaged_model(llm_home: Path, ml100k_train: TrainingData) -> None:  # noqa: F811
    augmenter = create_augmenter("llm-cold-items", seed=0, batch_size=8)
    with pytest.raises(NotFittedError):
        augmenter.judge_new_item(SCI_FI, np.array([0]))
    augmenter.fit(ml100k_train)
    users = np.concatenate(
        [_users_by_genre(ml100k_train, "Sci-Fi", 4, True), _users_by_genre(ml100k_train, "Sci-Fi", 4, False)]
    )
    verdicts = augmenter.judge_new_item(SCI_FI, users)
    assert list(verdicts["user_id"]) == list(ml100k_train.user_ids.to_numpy()[users])
    assert verdicts["p_yes"].between(0, 1).all() and verdicts["p_yes"].notna().all()
    assert (verdicts["accepted"] == (verdicts["p_yes"] >= augmenter.min_yes)).all()
    assert all(SCI_FI in prompt for prompt in verdicts["prompt"])  # the new text, not a catalog item
    # Each prompt lists only that user's training items.
    titles = ml100k_train.items["title"].to_numpy()
    for user, prompt in zip(users, verdicts["prompt"], strict=True):
        recent = augmenter.recent_history(int(user))
        assert all(display_title(titles[i]) in prompt for i in recent)
    again = augmenter.judge_new_item(SCI_FI, users)  # served from the response cache, identical
    assert np.array_equal(again["p_yes"].to_numpy(), verdicts["p_yes"].to_numpy())
