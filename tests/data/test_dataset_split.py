"""Dataset index maps, preparation and the random-811 split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.data.prepare import filter_kcore, prepare
from recaug.data.splits import Split, make_split


def test_ml100k_is_complete(ml100k: Dataset) -> None:
    assert (ml100k.n_users, ml100k.n_items, len(ml100k.interactions)) == (943, 1682, 100_000)
    assert ml100k.items["title"].iloc[0].startswith("Toy Story")
    assert "Animation" in ml100k.items["text"].iloc[0]
    assert ml100k.has_text


def test_random_811_proportions_and_disjointness(ml100k: Dataset, ml100k_split: Split) -> None:
    n = len(ml100k.interactions)
    assert len(ml100k_split.train) + len(ml100k_split.valid) + len(ml100k_split.test) == n
    assert 0.79 < len(ml100k_split.train) / n < 0.81
    assert 0.09 < len(ml100k_split.test) / n < 0.11
    keys = [
        set(zip(p["user_id"], p["item_id"], strict=True))
        for p in (ml100k_split.train, ml100k_split.valid, ml100k_split.test)
    ]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert set(ml100k_split.train["user_id"]) == set(ml100k.interactions["user_id"])  # nobody loses all training


def test_split_keeps_a_training_row_for_tiny_users() -> None:
    frame = pd.DataFrame({"user_id": ["a", "b", "b", "c", "c", "c"], "item_id": list("xyzxyz")})
    for seed in range(20):
        split = make_split(frame, "random-811", seed)
        assert set(split.train["user_id"]) == {"a", "b", "c"}


def test_split_is_seeded(ml100k: Dataset) -> None:
    a = make_split(ml100k.interactions, "random-811", 3).table()
    b = make_split(ml100k.interactions, "random-811", 3).table()
    c = make_split(ml100k.interactions, "random-811", 4).table()
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_unknown_protocol_lists_the_known_ones(ml100k: Dataset) -> None:
    with pytest.raises(RecaugInputError, match="random-811"):
        make_split(ml100k.interactions, "no-such-split", 0)


def test_prepare_threshold_and_kcore() -> None:
    frame = pd.DataFrame({"user_id": list("aaabbc"), "item_id": list("xyzxyx"), "rating": [5, 4, 1, 5, 2, 5]})
    kept, report = prepare(frame, rating_threshold=4)
    assert len(kept) == 4 and report.rows_below_threshold == 2
    cored = filter_kcore(frame, 2)
    assert set(cored["user_id"]) == {"a", "b"} and set(cored["item_id"]) == {"x", "y"}
    with pytest.raises(RecaugInputError, match="lower the rating threshold"):
        prepare(frame, rating_threshold=6)


def test_index_maps_are_fixed_and_synthetic_users_append(ml100k: Dataset) -> None:
    rows = pd.DataFrame({"user_id": ["1", "virtual:0", "virtual:0", "2"], "item_id": ["1", "2", "3", "no-such"]})
    indexed, n_rows = ml100k.index_synthetic(rows)
    assert n_rows == ml100k.n_users + 1
    assert indexed["user_idx"].tolist() == [ml100k.user_ids.get_loc("1"), ml100k.n_users, ml100k.n_users]
    matrix = ml100k.matrix(indexed, n_users=n_rows)
    assert matrix.shape == (944, 1682) and matrix.sum() == 3
    assert np.array_equal(ml100k.matrix(ml100k.interactions).sum(axis=1).A.ravel() > 0, np.ones(943, bool))


def test_fingerprint_changes_with_content(ml100k: Dataset) -> None:
    other = Dataset.from_frames(
        ml100k.interactions.iloc[:-1][["user_id", "item_id", "rating", "timestamp"]], ml100k.items, name="x"
    )
    assert other.fingerprint() != ml100k.fingerprint()


def _pandas_part_labels(frame: pd.DataFrame, seed: int) -> np.ndarray:
    """The reference rule written the slow, obvious way: shuffle, number each user's rows in the shuffled order,
    the last RecBole-rounded 10% test and the 10% before them validation (0 train, 1 valid, 2 test)."""
    from recaug.data.splits import recbole_counts

    order = np.random.default_rng(seed).permutation(len(frame))
    users = frame["user_id"].to_numpy()[order]
    rank = pd.Series(np.arange(len(order))).groupby(users).cumcount().to_numpy()
    sizes = pd.Series(users).map(pd.Series(users).value_counts()).to_numpy().astype(np.int64)
    n_valid, n_test = recbole_counts(sizes, 0.1, 0.1)
    labels = np.where(rank < sizes - n_valid - n_test, 0, np.where(rank < sizes - n_test, 1, 2))
    out = np.empty(len(order), dtype=np.int8)
    out[order] = labels
    return out


def test_random_811_follows_the_reference_rule_with_or_without_the_index(ml100k: Dataset) -> None:
    """The split groups integer user codes (10x faster at 1M rows); it must cut exactly as the per-user pandas rule
    does, on the dataset's frame (with ``user_idx``) and on a bare upload-like frame (ids only), and keep RecBole's
    counts: ML-100k's test part is 9,596 rows for every seed (rounding to nearest gave 10,037)."""
    frame = ml100k.interactions
    bare = frame[["user_id", "item_id"]].copy()
    for seed in (0, 3):
        labels = _pandas_part_labels(frame, seed)
        expected = [frame[labels == part].reset_index(drop=True) for part in (0, 1, 2)]
        for source in (frame, bare):
            split = make_split(source, "random-811", seed)
            got = (split.train, split.valid, split.test)
            for part, want in zip(got, expected, strict=True):
                assert part["user_id"].tolist() == want["user_id"].tolist()
                assert part["item_id"].tolist() == want["item_id"].tolist()
        assert len(expected[2]) == 9_596 and len(expected[1]) == 9_596
