"""Metrics against hand-computed tiny cases, and ranking with seen items excluded."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from recaug.evaluate.metrics import per_user_metrics, rank_top_k


def test_rank_excludes_seen_items_and_breaks_ties_by_index() -> None:
    scores = np.array([[0.9, 0.8, 0.8, 0.1], [0.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    exclude = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 1, 0]]))
    top = rank_top_k(scores, exclude, 3)
    assert top.tolist() == [[1, 2, 3], [0, 1, 3]]


def test_metrics_on_a_hand_computed_case() -> None:
    # user 0: relevant {1, 3}; ranking [1, 2, 3] -> hits at ranks 1 and 3
    # user 1: relevant {0};    ranking [2, 3, 1] -> no hit
    top = np.array([[1, 2, 3], [2, 3, 1]])
    relevant = sp.csr_matrix(np.array([[0, 1, 0, 1], [1, 0, 0, 0]]))
    values = per_user_metrics(top, relevant, ks=(1, 3), metrics=("recall", "precision", "hit", "ndcg", "mrr", "map"))
    assert values[("recall", 3)].tolist() == [1.0, 0.0]
    assert values[("recall", 1)].tolist() == [0.5, 0.0]
    assert np.allclose(values[("precision", 3)], [2 / 3, 0.0])
    assert values[("hit", 1)].tolist() == [1.0, 0.0]
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert np.isclose(values[("ndcg", 3)][0], dcg / idcg)
    assert values[("ndcg", 1)][0] == 1.0
    assert values[("mrr", 3)].tolist() == [1.0, 0.0]
    assert np.isclose(values[("map", 3)][0], (1 / 1 + 2 / 3) / 2)


def test_perfect_ranking_scores_one() -> None:
    top = np.array([[0, 1, 2]])
    relevant = sp.csr_matrix(np.array([[1, 1, 1, 0]]))
    values = per_user_metrics(top, relevant, ks=(3,), metrics=("recall", "ndcg", "precision"))
    assert all(np.isclose(v[0], 1.0) for v in values.values())
