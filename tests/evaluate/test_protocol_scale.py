"""Evaluation at scale: one documented tie rule at the cut-off, bounded-memory batches with unchanged results,
and model selection on a fixed, seeded validation sample that both arms share."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recaug.evaluate import protocol
from recaug.evaluate.metrics import hit_matrix, rank_top_k, top_k_indices
from recaug.evaluate.protocol import evaluate_model, selection_score, selection_size, selection_users


def reference_top_k(scores: np.ndarray, exclude: sp.csr_matrix, k: int) -> np.ndarray:
    """The documented rule, the slow way: sort by (-score, item index) with a stable full sort."""
    masked = scores.astype(np.float32).copy()
    masked[exclude.toarray() > 0] = -np.inf
    items = np.arange(scores.shape[1])
    return np.array([np.lexsort((items, -row))[:k] for row in masked])


def test_ties_at_the_cut_off_admit_the_lowest_indices() -> None:
    scores = np.array([[0.1, 0.5, 0.5, 0.9, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]], dtype=np.float32)
    exclude = sp.csr_matrix((2, 6))
    assert rank_top_k(scores, exclude, 3).tolist() == [[3, 1, 2], [0, 1, 2]]
    # Reversed orders: argpartition alone picks different members of the tie here.
    assert rank_top_k(scores[:, ::-1], exclude, 3).tolist() == [[2, 0, 1], [0, 1, 2]]


@pytest.mark.parametrize("seed", range(5))
def test_rank_top_k_equals_the_stable_sort_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, size=(50, 40)).astype(np.float32)  # many ties everywhere
    exclude = sp.csr_matrix(rng.random((50, 40)) < 0.3)
    for k in (1, 5, 10, 40):
        np.testing.assert_array_equal(rank_top_k(scores, exclude, k), reference_top_k(scores, exclude, k))


def test_hit_matrix_matches_dense_lookup() -> None:
    rng = np.random.default_rng(0)
    relevant = sp.csr_matrix(rng.random((30, 25)) < 0.2)
    top = rng.integers(0, 25, size=(30, 7))
    dense = relevant.toarray()
    expected = np.take_along_axis(dense, top, axis=1)
    np.testing.assert_array_equal(hit_matrix(top, relevant), expected)


class RecordingModel:
    """Random fixed scores; records the largest batch it was asked to score."""

    def __init__(self, n_users: int, n_items: int) -> None:
        self.scores = np.random.default_rng(1).random((n_users, n_items)).astype(np.float32)
        self.largest = 0

    def score(self, users: np.ndarray) -> np.ndarray:
        self.largest = max(self.largest, len(users))
        return self.scores[users]


def test_batches_stay_under_the_score_budget_and_do_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    n_users, n_items = 300, 500
    target = sp.csr_matrix(rng.random((n_users, n_items)) < 0.02)
    exclude = sp.csr_matrix(rng.random((n_users, n_items)) < 0.05)
    model = RecordingModel(n_users, n_items)
    whole = evaluate_model(model, target, exclude, ks=(10, 20))  # type: ignore[arg-type]
    monkeypatch.setattr(protocol, "SCORE_BUDGET", 7 * n_items)
    model.largest = 0
    small = evaluate_model(model, target, exclude, ks=(10, 20))  # type: ignore[arg-type]
    assert model.largest == 7
    np.testing.assert_array_equal(whole.top, small.top)
    for key in whole.values:
        np.testing.assert_array_equal(whole.values[key], small.values[key])


def test_selection_sample_is_fixed_capped_and_shared_by_both_arms() -> None:
    rng = np.random.default_rng(3)
    valid = sp.csr_matrix(rng.random((400, 50)) < 0.05)
    with_targets = np.flatnonzero(np.diff(valid.indptr) > 0)
    assert np.array_equal(selection_users(valid, seed=0), with_targets)  # all of them when few
    sample = selection_users(valid, seed=0, max_users=100)
    assert len(sample) == 100 and set(sample) <= set(with_targets)
    assert np.array_equal(sample, selection_users(valid, seed=0, max_users=100))
    assert not np.array_equal(sample, selection_users(valid, seed=1, max_users=100))
    # The augmented arm's validation matrix is padded with empty rows for virtual users: same sample.
    padded = sp.vstack([valid, sp.csr_matrix((60, 50))]).tocsr()
    assert np.array_equal(sample, selection_users(padded, seed=0, max_users=100))


def test_selection_sample_is_sized_by_score_cells_on_wide_catalogs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert selection_size(1_682) == selection_size(4_000) == 10_000  # ML-100k, 1M (6k x 4k): the user cap
    assert selection_size(20_000) == 2_500  # 50M scores per look
    assert selection_size(10_000_000) == protocol.SELECTION_MIN_USERS
    monkeypatch.setattr(protocol, "SELECTION_MIN_USERS", 10)
    rng = np.random.default_rng(5)
    valid = sp.csr_matrix(rng.random((400, 50)) < 0.05)
    sample = selection_users(valid, seed=0, max_cells=50 * 120)
    assert len(sample) == 120 and set(sample) <= set(np.flatnonzero(np.diff(valid.indptr) > 0))
    padded = sp.vstack([valid, sp.csr_matrix((60, 50))]).tocsr()  # the augmented arm's: same users
    assert np.array_equal(sample, selection_users(padded, seed=0, max_cells=50 * 120))


def test_selection_score_uses_only_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    valid = sp.csr_matrix(rng.random((200, 60)) < 0.05)
    exclude = sp.csr_matrix((200, 60))
    model = RecordingModel(200, 60)
    full = selection_score(model, valid, exclude, seed=0)  # type: ignore[arg-type]
    sampled = selection_score(model, valid, exclude, seed=0, max_users=20)  # type: ignore[arg-type]
    users = selection_users(valid, 0, 20)
    result = evaluate_model(model, valid, exclude, ks=(10,), metrics=("ndcg",), users=users)  # type: ignore[arg-type]
    assert sampled == pytest.approx(result.values[("ndcg", 10)].mean())
    assert full != sampled


def test_top_k_indices_equals_a_stable_argsort_with_ties_and_minus_infinity() -> None:
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 3, size=(40, 30)).astype(np.float32)
    scores[rng.random(scores.shape) < 0.3] = -np.inf
    for k in (1, 4, 30):
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(top_k_indices(scores, k), expected)
