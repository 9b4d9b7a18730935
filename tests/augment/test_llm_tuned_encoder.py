"""The tuned encoder: the packaged MiniLM plus a map trained on training co-interactions (recaug.text.finetune).

Planted data: three groups of users, each interacting only with its own block of items, and item texts that say
nothing about the blocks. The packaged encoder cannot see the blocks; the tuned one must learn them from the
interactions alone. Real packaged MiniLM, a fresh cache per test module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recaug.augment import create_augmenter
from recaug.data.dataset import Dataset
from recaug.text.encoder import DEFAULT_ENCODER, encode_texts
from recaug.text.finetune import TuneSettings, cooccurrence_pairs, encoder_for, tuned_encoder, tuning_info
from tests.conftest import planted_interactions

WORDS = ["amber", "basin", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper"]
SMALL = TuneSettings(pairs_per_item=100, epochs=2, batch_size=128, learning_rate=3e-3)
KNOWN_EVERY = 3  # the skill-check test's LLM knows the held-out item of one user in three


@pytest.fixture(scope="module")
def blind() -> Dataset:
    """Planted groups, item texts without any group word."""
    texts = [f"{WORDS[i % 10]} {WORDS[(i * 7 + 3) % 10]} story number {i}" for i in range(40)]
    items = pd.DataFrame({"item_id": [f"i{i}" for i in range(40)], "title": texts, "text": texts})
    return Dataset.from_frames(planted_interactions(per_user=10), items, name="planted-blind")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("recaug-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECAUG_HOME", str(folder))
        yield folder


def blocks(data: Dataset) -> np.ndarray:
    """The planted block of each item index (items i0-i12, i13-i25, i26-i38; i39 is in none)."""
    return np.array([int(i[1:]) // 13 for i in data.item_ids])


def group_gap(vectors: np.ndarray, block: np.ndarray) -> float:
    """Mean cosine within the planted item blocks minus across them."""
    keep = block < 3
    sims = vectors[keep] @ vectors[keep].T
    same = block[keep][:, None] == block[keep][None, :]
    off = ~np.eye(int(keep.sum()), dtype=bool)
    return float(sims[same & off].mean() - sims[~same].mean())


def test_pairs_are_co_interacted_items(blind: Dataset):
    train = blind.training_data(blind.interactions)
    pairs = cooccurrence_pairs(train.matrix, SMALL, seed=0)
    assert pairs.shape == (39 * 100, 2) and (pairs[:, 0] != pairs[:, 1]).all()
    shared = np.asarray((train.matrix[:, pairs[:, 0]].multiply(train.matrix[:, pairs[:, 1]])).sum(axis=0)).ravel()
    assert (shared > 0).all(), "every positive shares a user with its anchor"
    block = blocks(blind)
    assert (block[pairs[:, 0]] == block[pairs[:, 1]]).all(), "so on planted data it is in the anchor's block"
    assert np.array_equal(pairs, cooccurrence_pairs(train.matrix, SMALL, seed=0))


def test_tuning_learns_the_blocks_from_interactions_and_is_cached(home: Path, blind: Dataset):
    train = blind.training_data(blind.interactions)
    texts = train.items["text"].tolist()
    before = group_gap(encode_texts(texts, model=DEFAULT_ENCODER), blocks(blind))
    folder = tuned_encoder(train.matrix, texts, seed=0, settings=SMALL)
    after = group_gap(encode_texts(texts, model=str(folder)), blocks(blind))
    assert abs(before) < 0.05, "the texts carry no block information"
    assert after > before + 0.03, f"the tuned encoder moves the blocks apart ({before:.3f} -> {after:.3f})"
    info = tuning_info(folder)
    assert info["steps"] == 2 * -(-39 * 100 // SMALL.batch_size) and info["last_loss"] < info["first_loss"]
    assert float(info["cpu_seconds"]) > 0
    # The shared cost fields (recaug.text.tuning_cost) the Augment page shows, for any tuned component.
    assert (info["component"], info["cpu_s"], info["examples"]) == ("tuned encoder", info["cpu_seconds"], 39 * 100)
    assert tuned_encoder(train.matrix, texts, seed=0, settings=SMALL) == folder  # same data: the cached model
    other = blind.training_data(blind.interactions.iloc[:-40])
    assert tuned_encoder(other.matrix, texts, seed=0, settings=SMALL) != folder  # other training rows: retrained


def test_consumers_take_encoder_tuned(home: Path, blind: Dataset):
    train = blind.training_data(blind.interactions)
    assert encoder_for("packaged", train.matrix, []) == DEFAULT_ENCODER
    assert encoder_for("/some/folder", train.matrix, []) == "/some/folder"
    tuned = create_augmenter("similarity", encoder="tuned", target="all").fit(train)
    packaged = create_augmenter("similarity", target="all").fit(train)
    rows_tuned = tuned.augment(60).rows
    rows_packaged = packaged.augment(60).rows

    def in_block(rows: pd.DataFrame) -> float:
        users = rows["user_id"].str[1:].astype(int) % 3
        items = rows["item_id"].str[1:].astype(int) // 13
        return float((users == items).mean())

    # Users' unseen items of their own block are what the tuned text space puts next to their history.
    assert in_block(rows_tuned) > in_block(rows_packaged) + 0.2


def test_the_skill_check_compares_the_llm_with_the_encoder_the_run_uses(home: Path, blind: Dataset):
    from recaug.augment.llm.llm_interactions import LLMInteractionsAugmenter
    from recaug.augment.llm.skill import check_skill, encoder_scores, held_out_task, hits
    from tests.augment.test_llm_skill import Oracle

    train = blind.training_data(blind.interactions)
    users = np.arange(train.n_users)
    task = held_out_task(train, users, n_users=60, seed=0)  # the task the check below builds
    writer = LLMInteractionsAugmenter(backend=Oracle({})).fit(task.train)
    known = zip(task.users[::KNOWN_EVERY], task.held[::KNOWN_EVERY], strict=True)
    # An LLM that knows one user in KNOWN_EVERY (the rest tie): clearly above chance, below the tuned encoder.
    oracle = Oracle(
        {writer.continuation_prompt(writer.recent_history(int(u))): str(writer.titles_[h]) for u, h in known}
    )
    reports = {
        encoder: check_skill(
            create_augmenter("llm-item-text", backend=oracle, encoder=encoder, min_skill="encoder").fit(train),
            users=users,
            n_users=60,
        )
        for encoder in (DEFAULT_ENCODER, "tuned")
    }
    packaged, tuned = (reports[e].table.set_index("scorer")["hit_rate"] for e in (DEFAULT_ENCODER, "tuned"))
    assert list(packaged.index) == ["llm", "encoder", "popularity", "chance"]
    assert list(tuned.index) == ["llm", "encoder", "tuned encoder", "popularity", "chance"]
    assert packaged["llm"] == tuned["llm"] and packaged["encoder"] == tuned["encoder"]  # same task, same scorers
    # The tuned row is an encoder tuned on the check's reduced split: it never saw the held-out items.
    texts = task.train.items["text"].tolist()
    reduced = tuned_encoder(task.train.matrix, texts, seed=0)
    assert tuned["tuned encoder"] == pytest.approx(hits(encoder_scores(task, str(reduced)), task).mean(), abs=1e-4)
    assert tuned["tuned encoder"] > tuned["encoder"] + 0.2, "tuned on the interactions, it sees the blocks"
    assert packaged["encoder"] < packaged["llm"] < tuned["tuned encoder"]
    # So the same LLM passes next to the packaged encoder and fails next to the tuned one the run would use.
    assert reports[DEFAULT_ENCODER].passed and "free sentence encoder" in reports[DEFAULT_ENCODER].verdict
    assert not reports["tuned"].passed
    assert "worse than the tuned encoder" in reports["tuned"].verdict
    assert "tuned encoder (the encoder this run uses)" in reports["tuned"].verdict
    # What tuning that encoder cost is part of the check's price (the Augment page lists it with the method's).
    assert not reports[DEFAULT_ENCODER].tuning
    (cost,) = reports["tuned"].tuning
    assert cost["component"].startswith("tuned encoder (skill check") and cost["examples"] > 0
    assert (cost["users"], cost["interactions"]) == (task.train.n_users, task.train.matrix.nnz)
