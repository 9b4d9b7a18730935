"""The ensemble augmenter on the full real ML-100k training split, with cheap members."""

from __future__ import annotations

import math

import pytest

from recaug.augment import create_augmenter
from recaug.augment.base import resolve_target
from recaug.augment.ensemble import MIN_POOL_PER_USER
from recaug.core.errors import RecaugInputError
from recaug.data.schema import CONFIDENCE, ITEM, USER

MEMBERS = ["itemknn-expansion", "popularity", "random"]
BUDGET = 2000


def member_edges(train) -> list[set[tuple[str, str]]]:
    """Each member's own proposals, drawn the way the ensemble draws them (same seed, target and pool)."""
    light = resolve_target(train, "light-users").users
    pool = max(math.ceil(BUDGET * 2.0), MIN_POOL_PER_USER * len(light))
    ids = train.user_ids.to_numpy()[light].tolist()
    out = []
    for name in MEMBERS:
        rows = create_augmenter(name).fit(train).augment(pool, target=ids).rows
        out.append(set(zip(rows[USER], rows[ITEM], strict=True)))
    return out


@pytest.fixture(scope="module")
def members(ml100k_train) -> list[set[tuple[str, str]]]:
    return member_edges(ml100k_train)


def edges(rows) -> list[tuple[str, str]]:
    return list(zip(rows[USER], rows[ITEM], strict=True))


def test_vote_keeps_only_edges_proposed_by_enough_members(ml100k_train, members) -> None:
    rows = create_augmenter("ensemble", members=MEMBERS, mode="vote", min_votes=2).fit(ml100k_train).augment(BUDGET)
    assert len(rows.rows) > 0
    votes = [sum(edge in m for m in members) for edge in edges(rows.rows)]
    assert min(votes) >= 2
    # Every edge that two members agree on would be kept if the budget allowed it: the output is the most-voted.
    agreed = {e for e in set().union(*members) if sum(e in m for m in members) >= 2}
    assert len(rows.rows) == min(BUDGET, len(agreed))


def test_union_is_within_the_members_proposals(ml100k_train, members) -> None:
    rows = create_augmenter("ensemble", members=MEMBERS, mode="union").fit(ml100k_train).augment(BUDGET).rows
    assert len(rows) == BUDGET
    assert set(edges(rows)) <= set().union(*members)
    # Round-robin over members: each member's best proposals are represented.
    assert all(len(set(edges(rows)) & m) > 0 for m in members)


def test_weighted_mode_trusts_members_that_predict_held_out_training_edges(ml100k_train, hits) -> None:
    result = create_augmenter("ensemble", members=MEMBERS, mode="weighted").fit(ml100k_train).augment(BUDGET)
    weights = result.info["member_weights"]
    assert weights["itemknn-expansion"] > weights["popularity"] > weights["random"]
    assert abs(sum(weights.values()) - 1.0) < 1e-3
    assert result.rows[CONFIDENCE].between(0, 1).all()
    random_rows = create_augmenter("random").fit(ml100k_train).augment(BUDGET).rows
    assert hits(result.rows) > 3 * hits(random_rows)


def test_stacking_learns_which_members_to_trust(ml100k_train) -> None:
    result = create_augmenter("ensemble", members=MEMBERS, mode="stacking").fit(ml100k_train).augment(BUDGET)
    coefficients = result.info["stacking_coefficients"]
    assert coefficients["itemknn-expansion"] > coefficients["random"]
    assert len(result.rows) == BUDGET and result.rows[CONFIDENCE].between(0, 1).all()


def test_ensemble_rejects_bad_configurations(ml100k_train) -> None:
    for params in (
        {"mode": "boosting"},
        {"members": ["random", "edge-dropout"]},
        {"members": ["random", "llm-init"]},  # gives item start vectors, proposes no rows
        {"members": []},
        {"member_params": {"cfgan": {"epochs": 1}}},
    ):
        with pytest.raises(RecaugInputError):
            create_augmenter("ensemble", **params).fit(ml100k_train)


def test_the_member_choices_are_the_combinable_augmenters() -> None:
    from recaug.augment.options import param_specs

    members = next(spec for spec in param_specs("ensemble") if spec.name == "members").choices
    assert {"random", "similarity", "llm-interactions"} <= set(members)
    assert not {"ensemble", "edge-dropout", "llm-init"} & set(members)
