"""Small, real or exactly known data for the conformance kits.

* :func:`checkerboard`: a tiny user x item matrix whose correct top-1 is known (implicit's idea): even users like
  even items and odd users odd items, and each user's own-index item is held out, so it is the one unseen item of
  the user's parity.
* :func:`slice_of` / :func:`default_slice`: the first 150 users of ML-100k (all their interactions) split
  random-811, plus a *twin* whose validation/test pairs are shuffled while the training rows stay identical: an
  augmenter that reads only the training split gives identical output on both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.data.dataset import Dataset, TrainingData
from recaug.data.schema import ITEM, RATING, TIMESTAMP, USER
from recaug.data.splits import Split, make_split

BASE_COLUMNS = [USER, ITEM, RATING, TIMESTAMP]
SLICE_USERS = 150


@dataclass(frozen=True)
class Checkerboard:
    """``train``/``valid``/``test`` (binary CSR, users x items); ``test`` holds each user's known top-1 item."""

    train: sp.csr_matrix
    valid: sp.csr_matrix
    test: sp.csr_matrix

    @property
    def top1(self) -> np.ndarray:
        """The correct first recommendation of every user (train and valid excluded)."""
        return self.test.indices.copy()


def checkerboard(n: int = 40) -> Checkerboard:
    """An ``n`` x ``n`` checkerboard (``n`` even, ≥ 6): user u likes every item of u's parity except u and u+2.

    Item u is the test answer and item u+2 (mod n) the validation pair, so with train and valid excluded the only
    unseen item of the right parity, and hence the known top-1, is item u.
    """
    if n < 6 or n % 2:
        raise ValueError(f"checkerboard needs an even n >= 6, got {n}")
    users, items = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    same_parity = users % 2 == items % 2
    answer = items == users
    held_for_valid = items == (users + 2) % n

    def matrix(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix(mask.astype(np.float32))

    return Checkerboard(
        train=matrix(same_parity & ~answer & ~held_for_valid), valid=matrix(held_for_valid), test=matrix(answer)
    )


@dataclass(frozen=True)
class SliceData:
    """A small real dataset for augmenters: its split, the training view and the leakage twin."""

    dataset: Dataset
    split: Split
    train: TrainingData
    twin_train: TrainingData  # same training rows, built from a Dataset whose valid/test pairs differ
    pristine_interactions: pd.DataFrame
    pristine_matrix: sp.csr_matrix


def pairs(frame: pd.DataFrame) -> pd.MultiIndex:
    """(user_id, item_id) pairs of a frame, as strings."""
    return pd.MultiIndex.from_arrays([frame[USER].astype(str), frame[ITEM].astype(str)])


def twin_with_shuffled_heldout(dataset: Dataset, split: Split, seed: int = 1) -> tuple[Dataset, pd.DataFrame]:
    """A Dataset with the same training rows whose valid/test rows pair users with other (shuffled) items."""
    heldout = pd.concat([split.valid, split.test])[BASE_COLUMNS].reset_index(drop=True)
    heldout[ITEM] = np.random.default_rng(seed).permutation(heldout[ITEM].to_numpy())
    clash = pairs(heldout).isin(pairs(split.train)) | pairs(heldout).duplicated()
    twin = Dataset.from_frames(
        pd.concat([split.train[BASE_COLUMNS], heldout[~clash]]), dataset.items, name=f"{dataset.name}-twin"
    )
    twin_train = twin.interactions[pairs(twin.interactions).isin(pairs(split.train))]
    return twin, twin_train


def slice_of(dataset: Dataset, n_users: int = SLICE_USERS, seed: int = 0) -> SliceData:
    """The first ``n_users`` users of ``dataset`` (all their interactions), split random-811, with the twin.

    Raises AssertionError if the twin does not meet the leakage test's preconditions (identical id maps and
    training matrix, different held-out pairs).
    """
    users = dataset.user_ids[:n_users]
    rows = dataset.interactions[dataset.interactions[USER].isin(users)][BASE_COLUMNS]
    small = Dataset.from_frames(rows, dataset.items, name=f"{dataset.name}-slice")
    split = make_split(small.interactions, "random-811", seed)
    train = small.training_data(split.train)
    twin, twin_rows = twin_with_shuffled_heldout(small, split)
    assert twin.user_ids.equals(small.user_ids) and twin.item_ids.equals(small.item_ids)
    twin_train = twin.training_data(twin_rows)
    assert (twin_train.matrix != train.matrix).nnz == 0
    assert not pairs(twin.interactions).isin(pairs(small.interactions)).all()
    return SliceData(small, split, train, twin_train, train.interactions.copy(), train.matrix.copy())


@functools.cache
def default_slice() -> SliceData:
    """:func:`slice_of` the packaged ML-100k, built once per process (the kits and the test fixtures share it)."""
    from recaug.data.builtin import load_ml100k

    interactions, items = load_ml100k()
    return slice_of(Dataset.from_frames(interactions, items, name="ml-100k"))
