"""The four LLM augmenters end to end with the REAL packaged SmolLM2 on a handful of real ML-100k users/items.

Each augmenter runs once per module (fresh response cache), then several tests check real properties of its
output: catalog items, nothing the user already has, filled provenance, a log that matches the rows, and the
leakage guard -- no prompt carries a validation or test interaction of the user it is about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recaug.augment import create_augmenter
from recaug.augment.base import Augmenter, AugmentResult
from recaug.augment.llm.llm_common import ACCEPTED, LOG_COLUMNS
from recaug.augment.llm.llm_item_text import keywords_prompt
from recaug.data.dataset import Dataset, TrainingData
from recaug.data.splits import Split
from recaug.text.llm.parsing import display_title
from tests.servers.llm_fixtures import module_llm_home  # noqa: F401  (fixture)

NAMES = [
    "llm-interactions",
    "llm-interactions@continuation",
    "llm-profiles",
    "llm-item-text",
    "llm-cold-items",
    "llm-cold-items@one-pass",
]


def light_users(train: TrainingData, n: int, skip: int = 0) -> list[str]:
    order = np.argsort(train.user_degree(), kind="stable")[skip : skip + n]
    return [str(u) for u in train.user_ids.to_numpy()[order]]


def settings(train: TrainingData) -> dict[str, tuple[dict[str, Any], int]]:
    """Small real runs: (augmenter params, budget) per augmenter."""
    return {
        "llm-interactions": (
            {
                "target": light_users(train, 4),
                "n_candidates": 8,
                "picks_per_user": 2,
                "choice": "logprob",
                "negatives": True,
            },
            100,
        ),
        "llm-interactions@continuation": (
            {
                "target": light_users(train, 6, skip=10),
                "choice": "continuation",
                "picks_per_user": 2,
                "negatives": True,
            },
            100,
        ),
        "llm-profiles": ({"target": light_users(train, 3, skip=4), "max_new_tokens": 40}, 12),
        "llm-item-text": ({"target": "light-users", "max_items": 3, "max_new_tokens": 24}, 9),
        "llm-cold-items": (
            {"target": "cold-items", "mode": "judge", "max_items": 3, "users_per_item": 3, "max_users": 60},
            50,
        ),
        "llm-cold-items@one-pass": ({"target": "cold-items", "max_items": 4, "max_new_tokens": 20}, 12),
    }


@pytest.fixture(scope="module")
def runs(module_llm_home: Path, ml100k_train: TrainingData) -> dict[str, tuple[Augmenter, AugmentResult]]:  # noqa: F811
    out = {}
    for name, (params, budget) in settings(ml100k_train).items():
        steps: list[tuple[float, str]] = []
        augmenter = create_augmenter(name.split("@")[0], item_noun="movie", **params).fit(ml100k_train)
        result = augmenter.augment(budget, progress=lambda f, m, s=steps: s.append((f, m)))
        result.info["progress_steps"] = steps
        out[name] = (augmenter, result)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_rows_are_unseen_catalog_items_with_provenance(name: str, runs: dict, ml100k_train: TrainingData) -> None:
    _, result = runs[name]
    rows = result.rows
    assert len(rows) > 0, result.log[["reason", "response"]].to_string()
    assert set(rows["item_id"]) <= set(ml100k_train.item_ids)
    assert set(rows["user_id"]) <= set(ml100k_train.user_ids)
    users = ml100k_train.user_ids.get_indexer(rows["user_id"])
    items = ml100k_train.item_ids.get_indexer(rows["item_id"])
    assert (np.asarray(ml100k_train.matrix[users, items]).ravel() == 0).all(), "a row repeats a training pair"
    assert not rows.duplicated(["user_id", "item_id"]).any()
    assert (rows["origin"] == name.split("@")[0]).all()
    assert rows["confidence"].between(0, 1).all() and rows["confidence"].notna().all()
    assert rows["prompt_id"].str.startswith(f"{name.split('@')[0]}:").all()


@pytest.mark.parametrize("name", NAMES)
def test_log_matches_rows(name: str, runs: dict) -> None:
    _, result = runs[name]
    log = result.log
    assert list(log.columns) == LOG_COLUMNS
    assert log["prompt_id"].is_unique and (log["augmenter"] == name.split("@")[0]).all()
    # Every row is explained by exactly one accepted prompt, and every accepted prompt by its rows.
    from_log = {
        (p, u, i)
        for p, us, its in log[["prompt_id", "output_user_ids", "output_item_ids"]].itertuples(index=False)
        for u, i in zip(us, its, strict=True)
    }
    rows = result.rows  # negatives (polarity -1) ride along with accepted prompts
    positives = rows[rows["polarity"] == 1] if "polarity" in rows else rows
    from_rows = set(positives[["prompt_id", "user_id", "item_id"]].itertuples(index=False, name=None))
    assert from_log == from_rows
    accepted = log[log["accepted"]]
    assert (accepted["output_item_ids"].map(len) > 0).all()
    assert (log.loc[~log["accepted"], "reason"] != ACCEPTED).all()
    assert (log["prompt"].str.len() > 50).all() and (accepted["response"].str.len() > 0).all()
    assert (log["tokens_in"] > 20).all() and not log["cache_hit"].any()
    keyed = log.set_index("prompt_id")
    user_based = name in ("llm-interactions", "llm-interactions@continuation", "llm-profiles", "llm-cold-items")
    for row in result.rows.itertuples(index=False):
        entry = keyed.loc[row.prompt_id]
        if user_based:
            assert entry["user_id"] == row.user_id
        if name.startswith(("llm-item-text", "llm-cold-items")):
            assert entry["item_id"] == row.item_id


@pytest.mark.parametrize("name", NAMES)
def test_leakage_guard_no_prompt_holds_a_valid_or_test_item_of_its_user(
    name: str, runs: dict, ml100k: Dataset, ml100k_split: Split
) -> None:
    _, result = runs[name]
    train_items = ml100k_split.train.groupby("user_id")["item_id"].agg(set)
    held_out = pd.concat([ml100k_split.valid, ml100k_split.test]).groupby("user_id")["item_id"].agg(set)
    catalog = ml100k.items.set_index("item_id")
    checked = 0
    for row in result.log.itertuples(index=False):
        if name in ("llm-item-text", "llm-cold-items@one-pass"):  # item prompts: nothing about any user
            assert row.user_id == "" and row.history_item_ids == []
            index = int(ml100k.item_ids.get_loc(row.item_id))
            assert row.prompt == keywords_prompt("movie", str(ml100k.items["text"].iloc[index]))
            continue
        history = set(row.history_item_ids)
        assert history and history <= train_items[row.user_id], "history must come from the training split"
        allowed = history | set(row.candidate_item_ids)
        allowed_titles = {display_title(catalog.loc[i, "title"]) for i in allowed}
        lines = set(row.prompt.splitlines())
        for item in held_out.get(row.user_id, set()) - allowed:
            title = display_title(catalog.loc[item, "title"])
            if title in allowed_titles:  # a different item with the same title
                continue
            assert f"- {title}" not in lines, f"held-out item {item} ({title}) in a prompt about {row.user_id}"
            assert str(catalog.loc[item, "text"]) not in row.prompt
            checked += 1
    if name not in ("llm-item-text", "llm-cold-items@one-pass"):
        assert checked > 0  # the guard really looked at held-out items


@pytest.mark.parametrize("name", NAMES)
def test_info_reports_cost_rejections_and_progress(name: str, runs: dict) -> None:
    _, result = runs[name]
    info = result.info
    assert info["backend"] == "local" and info["model"].startswith("packaged:SmolLM2-135M-Instruct")
    orders = info.get("orders_per_prompt", 1)  # llm-interactions asks each prompt in several candidate orders
    assert info["calls"] == info["prompts"] * orders + info.get("calibration_calls", 0) > 0
    assert info["max_calls"] == 2000 and info["calls_capped"] is False
    assert info["prompts"] == len(result.log)
    logged = result.log["tokens_in"].sum()
    assert info["tokens_in"] == logged > 0 if not info.get("calibration_calls") else info["tokens_in"] > logged > 0
    assert info["cache_hits"] == 0 and info["cache_hit_rate"] == 0.0 and info["failures"] == 0
    assert info["rejection_rate"] == pytest.approx(1 - result.log["accepted"].mean(), abs=1e-3)
    assert 0 < info["llm_seconds"] <= info["llm_wall_seconds"] <= info["seconds"]
    fractions = [f for f, _ in info["progress_steps"]]
    assert len(fractions) >= 2 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert result.params["backend"] == "local" and "api_key" not in result.params


def test_interactions_picks_are_candidates_and_negatives_are_not_picked(runs: dict) -> None:
    _, result = runs["llm-interactions"]
    keyed = result.log.set_index("prompt_id")
    for row in result.rows.itertuples(index=False):
        assert row.item_id in keyed.loc[row.prompt_id, "candidate_item_ids"]
    positives = result.rows[result.rows["polarity"] == 1]
    negatives = result.rows[result.rows["polarity"] == -1]
    assert positives.groupby("user_id").size().max() <= 2  # picks_per_user
    assert len(negatives) == result.info["negatives"] <= len(positives)
    assert set(negatives["user_id"]) <= set(positives["user_id"])
    picked = set(positives[["user_id", "item_id"]].itertuples(index=False, name=None))
    assert not picked & set(negatives[["user_id", "item_id"]].itertuples(index=False, name=None))
    # Confidence is the softmax probability over the candidates: the two picks of a user sum to at most 1.
    assert (positives.groupby("user_id")["confidence"].sum() <= 1 + 1e-9).all()
    info = result.info
    assert 0 <= info["first_position_pick_rate"] <= 1 and 0 <= info["flip_rate"] <= 1
    # Each prompt either added picks or was rejected for a counted reason (unstable picks among them).
    assert info["prompts_accepted"] + sum(info["rejection_reasons"].values()) == info["prompts"] == 4


def test_continuation_scores_each_user_once_without_listing_candidates(runs: dict) -> None:
    """The candidate-free mode: one call per user whose prompt names no candidate, plus the content-free
    calibration calls (every distinct candidate title once, 32 per call); picks and negatives are candidates."""
    augmenter, result = runs["llm-interactions@continuation"]
    info, log = result.info, result.log
    assert info["choice"] == "continuation" and info["orders_per_prompt"] == 1 and info["normalise"] == "pmi"
    distinct = {item for items in log["candidate_item_ids"] for item in items}
    assert len(log) == info["users_prompted"] == 6 and info["calibration_calls"] == -(-len(distinct) // 32)
    assert info["calls"] == 6 + info["calibration_calls"] and info["flip_rate"] == 0.0
    assert "first_position_pick_rate" not in info  # nothing is listed, so there is no first position
    for row in log.itertuples(index=False):
        assert row.prompt.endswith("The next movie they will enjoy is:")
        listed = augmenter.titles_[augmenter.train_.item_ids.get_indexer(row.candidate_item_ids)]
        assert not {f"- {t}" for t in listed} & set(row.prompt.splitlines())
    keyed = log.set_index("prompt_id")
    for row in result.rows.itertuples(index=False):
        assert row.item_id in keyed.loc[row.prompt_id, "candidate_item_ids"]
    positives = result.rows[result.rows["polarity"] == 1]
    assert positives.groupby("user_id").size().max() == 2 and info["negatives"] > 0
    assert (positives.groupby("user_id")["confidence"].sum() <= 1 + 1e-9).all()


def test_continuation_pick_does_not_depend_on_the_candidate_order(runs: dict, ml100k_train: TrainingData) -> None:
    """Another seed shuffles the candidates differently; the backend still gets the same options in the same
    canonical order, so the answers are the cached ones and the rows are identical."""
    _, first = runs["llm-interactions@continuation"]
    params, budget = settings(ml100k_train)["llm-interactions@continuation"]
    again = create_augmenter("llm-interactions", item_noun="movie", seed=7, **params).fit(ml100k_train).augment(budget)
    pd.testing.assert_frame_equal(again.rows.drop(columns="prompt_id"), first.rows.drop(columns="prompt_id"))
    assert again.info["cache_hit_rate"] == 1.0


def test_pmi_calibration_changes_what_the_real_model_picks(runs: dict, ml100k_train: TrainingData) -> None:
    """Raw log-likelihoods favour titles that are likely whatever the history; the content-free calibration
    removes that, so the calibrated picks are not the raw ones (checked on the same 6 real users)."""
    _, calibrated = runs["llm-interactions@continuation"]
    params, budget = settings(ml100k_train)["llm-interactions@continuation"]
    raw = create_augmenter("llm-interactions", item_noun="movie", normalise="none", **params)
    raw_rows = raw.fit(ml100k_train).augment(budget).rows
    assert raw.info_["calls"] == 6 and "calibration_calls" not in raw.info_  # the user calls came from the cache
    pick = {p: set(r.loc[r["polarity"] == 1, "item_id"]) for p, r in (("raw", raw_rows), ("pmi", calibrated.rows))}
    assert pick["raw"] != pick["pmi"]


def test_one_pass_cold_items_cover_every_item_with_one_generation_each(runs: dict, ml100k_train: TrainingData) -> None:
    _, result = runs["llm-cold-items@one-pass"]
    assert result.info["mode"] == "one-pass" and result.info["calls"] == 4 == result.info["items_prompted"]
    assert len(result.rows) == 12 and result.info["budget_reached"]
    popularity = ml100k_train.item_popularity()
    assert popularity[ml100k_train.item_ids.get_indexer(result.rows["item_id"])].max() <= 1
    assert set(result.rows["item_id"]) <= set(result.artifacts["item_text"]["item_id"])


def test_profiles_are_kept_with_embeddings(runs: dict) -> None:
    _, result = runs["llm-profiles"]
    profiles = result.artifacts["profiles"]
    vectors = result.artifacts["profile_embeddings"]
    assert len(profiles) == 3 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert (profiles["profile"].str.split().str.len() >= 3).all()
    assert set(profiles["prompt_id"]) == set(result.log["prompt_id"])


def test_item_text_enriches_the_thinnest_items(runs: dict, ml100k_train: TrainingData) -> None:
    _, result = runs["llm-item-text"]
    table = result.artifacts["item_text"]
    assert 1 <= len(table) <= 3
    popularity = ml100k_train.item_popularity()
    enriched = ml100k_train.item_ids.get_indexer(table["item_id"])
    visible = popularity[ml100k_train.item_visible()]  # items known only from validation/test are never offered
    assert popularity[enriched].max() <= np.sort(visible)[2]  # among the three least-interacted items
    for row in table.itertuples(index=False):
        assert row.enriched_text.startswith(row.original_text) and row.keywords in row.enriched_text
    assert set(result.rows["item_id"]) <= set(table["item_id"])


def test_cold_items_accepts_only_confident_pairs_of_cold_items(runs: dict, ml100k_train: TrainingData) -> None:
    augmenter, result = runs["llm-cold-items"]
    log = result.log
    assert len(log) == 9  # 3 cold items x 3 candidate users
    assert (result.rows["confidence"] >= augmenter.min_yes).all()
    rejected = log[~log["accepted"]]
    assert (rejected["confidence"] < augmenter.min_yes).all()
    assert rejected["reason"].str.startswith("LLM said no").all()
    assert result.info["calibration_calls"] == 3  # one content-free question per item
    assert log["response"].str.contains("know nothing about").all()
    popularity = ml100k_train.item_popularity()
    assert popularity[ml100k_train.item_ids.get_indexer(log["item_id"])].max() <= 1


def test_rerun_is_identical_and_served_from_the_cache(runs: dict, ml100k_train: TrainingData) -> None:
    _, first = runs["llm-interactions"]
    params, budget = settings(ml100k_train)["llm-interactions"]
    again = create_augmenter("llm-interactions", item_noun="movie", **params).fit(ml100k_train).augment(budget)
    pd.testing.assert_frame_equal(again.rows, first.rows)
    assert again.info["cache_hit_rate"] == 1.0 and again.info["llm_seconds"] == 0.0
    assert again.log["cache_hit"].all() and again.log["tokens_in"].tolist() == first.log["tokens_in"].tolist()
