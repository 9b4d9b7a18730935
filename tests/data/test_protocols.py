"""Split protocols on real MovieLens-100k: each one's invariants, seeding and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.data.splits import SPLITS, Split, make_split, protocol_params


def pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["user_id"], frame["item_id"], strict=True))


def assert_partition(split: Split, interactions: pd.DataFrame) -> None:
    parts = [pairs(split.train), pairs(split.valid), pairs(split.test)]
    assert sum(map(len, parts)) == len(interactions)
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert parts[0] | parts[1] | parts[2] == pairs(interactions)


@pytest.fixture(scope="module")
def splits(ml100k: Dataset) -> dict[str, Split]:
    return {name: make_split(ml100k.interactions, name, 0) for name in SPLITS.names()}


def test_every_protocol_is_a_disjoint_partition(ml100k: Dataset, splits: dict[str, Split]) -> None:
    assert set(splits) == {"random-811", "temporal", "leave-last-out", "cold-items", "cold-users"}
    for name, split in splits.items():
        assert split.protocol == name
        assert_partition(split, ml100k.interactions)


def test_temporal_trains_on_the_past(ml100k: Dataset, splits: dict[str, Split]) -> None:
    split = splits["temporal"]
    assert split.train["timestamp"].max() <= split.valid["timestamp"].min()
    assert split.valid["timestamp"].max() <= split.test["timestamp"].min()
    assert (len(split.train), len(split.valid), len(split.test)) == (80_000, 10_000, 10_000)
    # One global cut-off: many test users never appear in training (ML-100k users joined over seven months).
    assert split.test["user_id"].nunique() < 300
    other_seed = make_split(ml100k.interactions, "temporal", 5).table()
    pd.testing.assert_frame_equal(split.table().drop(columns="seed"), other_seed.drop(columns="seed"))
    shorter = make_split(ml100k.interactions, "temporal", 0, test=0.2, valid=0.05)
    assert (len(shorter.valid), len(shorter.test)) == (5_000, 20_000)


def test_leave_last_out_holds_out_each_users_latest(ml100k: Dataset, splits: dict[str, Split]) -> None:
    split = splits["leave-last-out"]
    assert split.test["user_id"].is_unique and split.valid["user_id"].is_unique
    assert len(split.test) == len(split.valid) == ml100k.n_users  # every ML-100k user has >= 20 ratings
    last_train = split.train.groupby("user_id")["timestamp"].max()
    valid_ts = split.valid.set_index("user_id")["timestamp"]
    test_ts = split.test.set_index("user_id")["timestamp"]
    assert (last_train.reindex(valid_ts.index) <= valid_ts).all()
    assert (valid_ts.reindex(test_ts.index) <= test_ts).all()
    assert (test_ts == ml100k.interactions.groupby("user_id")["timestamp"].max().reindex(test_ts.index)).all()


def test_leave_last_out_breaks_timestamp_ties_with_the_seed(ml100k: Dataset) -> None:
    """Many ML-100k users rated several items in their last second; which one is test must not follow the ids."""
    frame = ml100k.interactions
    last = frame.groupby("user_id")["timestamp"].transform("max")
    tied_users = frame[frame["timestamp"] == last].groupby("user_id").size()
    assert (tied_users > 1).sum() > 300  # 415 of 943 users at the time of writing
    tests = [make_split(frame, "leave-last-out", seed).test.set_index("user_id")["item_id"] for seed in (0, 1)]
    tied = tied_users.index[tied_users > 1]
    assert (tests[0].reindex(tied) != tests[1].reindex(tied)).mean() > 0.2  # seeds choose differently among ties
    pd.testing.assert_frame_equal(
        make_split(frame, "leave-last-out", 0).test, make_split(frame, "leave-last-out", 0).test
    )
    # The test item is no longer always the largest id (as a string) among the tied ones.
    largest = frame[frame["timestamp"] == last].groupby("user_id")["item_id"].max()
    assert (tests[0].reindex(tied) != largest.reindex(tied)).mean() > 0.2


def test_leave_last_out_small_users() -> None:
    frame = pd.DataFrame(
        {"user_id": ["a", "b", "b", "c", "c", "c"], "item_id": list("xyzxyz"), "timestamp": [1, 2, 1, 3, 1, 2]}
    )
    split = make_split(frame, "leave-last-out", 0)
    assert pairs(split.train) == {("a", "x"), ("b", "z"), ("c", "y")}
    assert pairs(split.valid) == {("c", "z")}
    assert pairs(split.test) == {("b", "y"), ("c", "x")}


def test_cold_items_never_reach_training(ml100k: Dataset, splits: dict[str, Split]) -> None:
    split = splits["cold-items"]
    cold = set(split.cold_items)
    assert len(cold) == round(0.15 * ml100k.n_items)
    assert not cold & set(split.train["item_id"])
    # Every interaction of a cold item is held out, and the valid and test cold items are different items.
    assert (ml100k.interactions["item_id"].isin(cold)).sum() == (
        split.valid["item_id"].isin(cold).sum() + split.test["item_id"].isin(cold).sum()
    )
    cold_valid = set(split.valid["item_id"]) & cold
    cold_test = set(split.test["item_id"]) & cold
    assert cold_valid and cold_test and not cold_valid & cold_test
    # Warm items follow the per-user 8:1:1 split, so the test also measures warm items.
    warm_test = split.test[~split.test["item_id"].isin(cold)]
    assert 0.08 < len(warm_test) / (~ml100k.interactions["item_id"].isin(cold)).sum() < 0.12
    again = make_split(ml100k.interactions, "cold-items", 0)
    other = make_split(ml100k.interactions, "cold-items", 1)
    assert set(again.cold_items) == cold and set(other.cold_items) != cold
    bigger = make_split(ml100k.interactions, "cold-items", 0, fraction=0.2)
    assert len(bigger.cold_items) == round(0.2 * ml100k.n_items)


@pytest.mark.parametrize("n", [1, 5])
def test_cold_users_keep_exactly_their_first_n(ml100k: Dataset, n: int) -> None:
    split = make_split(ml100k.interactions, "cold-users", 0, n=n)
    cold = set(split.cold_users)
    assert len(cold) == round(0.2 * ml100k.n_users)
    train_counts = split.train[split.train["user_id"].isin(cold)].groupby("user_id").size()
    assert set(train_counts.index) == cold and (train_counts == n).all()
    assert not split.valid["user_id"].isin(cold).any()
    latest_train = split.train[split.train["user_id"].isin(cold)].groupby("user_id")["timestamp"].max()
    earliest_test = split.test[split.test["user_id"].isin(cold)].groupby("user_id")["timestamp"].min()
    assert (latest_train <= earliest_test.reindex(latest_train.index)).all()
    degree = ml100k.interactions.groupby("user_id").size()
    test_counts = split.test[split.test["user_id"].isin(cold)].groupby("user_id").size()
    assert (test_counts == degree.reindex(test_counts.index) - n).all()
    warm_train = split.train[~split.train["user_id"].isin(cold)]
    assert set(warm_train["user_id"]) == set(ml100k.interactions["user_id"]) - cold


def test_cold_users_without_timestamps_use_a_seeded_order() -> None:
    frame = pd.DataFrame(
        {"user_id": np.repeat([f"u{i}" for i in range(10)], 6), "item_id": [f"i{j}" for j in range(60)]}
    )
    first = make_split(frame, "cold-users", 3, n=2, share=0.5)
    assert pd.Series(first.train["user_id"]).value_counts().loc[list(first.cold_users)].eq(2).all()
    pd.testing.assert_frame_equal(first.table(), make_split(frame, "cold-users", 3, n=2, share=0.5).table())


def test_protocols_that_cannot_run_say_why() -> None:
    no_time = pd.DataFrame({"user_id": list("aabbcc"), "item_id": list("xyxyxy")})
    for protocol in ("temporal", "leave-last-out"):
        with pytest.raises(RecaugInputError, match="timestamp"):
            make_split(no_time, protocol, 0)
    with pytest.raises(RecaugInputError, match=r"1\.\.5"):
        make_split(no_time, "cold-users", 0, n=6)
    with pytest.raises(RecaugInputError, match="no user with more than 3"):
        make_split(no_time, "cold-users", 0, n=3)
    with pytest.raises(RecaugInputError, match="at least 2 cold"):
        make_split(no_time, "cold-items", 0)
    with pytest.raises(RecaugInputError, match="no parameter"):
        make_split(no_time, "random-811", 0, fraction=0.1)
    with pytest.raises(RecaugInputError, match=r"fraction must be in"):
        make_split(no_time, "cold-items", 0, fraction=0.9)


def test_protocol_params_lists_defaults() -> None:
    assert protocol_params("cold-users") == {"n": 3, "share": 0.2}
    assert protocol_params("random-811") == {}
