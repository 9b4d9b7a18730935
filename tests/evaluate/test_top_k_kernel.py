"""The compiled top-k scan keeps the module's rule where numpy's partition had none: NaN ranks last, float64
scores are compared as float64, and a row with fewer than k rankable items is filled by the lowest indices."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recaug.evaluate.metrics import rank_top_k, top_k_indices


def test_nan_scores_rank_below_minus_infinity_and_excluded_items() -> None:
    scores = np.array([[np.nan, 0.2, -np.inf, np.nan, 0.9, 0.2]], dtype=np.float32)
    exclude = sp.csr_matrix(np.array([[0, 0, 0, 0, 1, 0]]))
    # 0.2 (items 1, 5, by index), then -inf: item 2, then the excluded 4, then the NaN items 0 and 3.
    assert rank_top_k(scores, exclude, 6).tolist() == [[1, 5, 2, 4, 0, 3]]
    assert rank_top_k(scores, exclude, 3).tolist() == [[1, 5, 2]]


def test_float64_scores_keep_their_precision() -> None:
    scores = np.array([[1.0, 1.0 + 1e-12, 1.0 + 2e-12, 0.5]])  # equal in float32, ordered in float64
    assert top_k_indices(scores, 3).tolist() == [[2, 1, 0]]
    assert rank_top_k(scores, sp.csr_matrix((1, 4)), 3).tolist() == [[0, 1, 2]]  # float32: a tie, by index


def test_explicit_zeros_in_the_exclusion_exclude_nothing() -> None:
    scores = np.array([[0.1, 0.9, 0.5]], dtype=np.float32)
    exclude = sp.csr_matrix((np.array([0.0, 1.0]), np.array([1, 2]), np.array([0, 2])), shape=(1, 3))
    assert rank_top_k(scores, exclude, 3).tolist() == [[1, 0, 2]]
