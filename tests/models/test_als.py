"""ALS on ``implicit``: chunked training equals one long fit, early stopping on validation, real ML-100k range."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recaug.data.dataset import Dataset
from recaug.data.splits import Split
from recaug.evaluate.protocol import mean_metric
from recaug.models import create_model
from recaug.models.als import implicit_als


def test_chunks_of_iterations_continue_like_one_fit() -> None:
    """implicit's fit resumes from the current factors: 2 x 3 iterations == 6 iterations (what early stopping uses)."""
    rng = np.random.default_rng(0)
    x = sp.csr_matrix((rng.random((60, 40)) < 0.1).astype(np.float32))
    once = implicit_als(8, 0.1, 1.0, 6, seed=0, gpu=False)
    once.fit(x, show_progress=False)
    chunked = implicit_als(8, 0.1, 1.0, 3, seed=0, gpu=False)
    chunked.fit(x, show_progress=False)
    chunked.fit(x, show_progress=False)
    np.testing.assert_allclose(chunked.user_factors, once.user_factors, rtol=1e-4, atol=1e-6)
    ours = create_model("als", factors=8, reg=0.1, max_iterations=6, device="cpu").fit(x)
    np.testing.assert_allclose(ours.user_factors_, once.user_factors, rtol=1e-4, atol=1e-6)


def test_als_early_stops_on_validation_and_reaches_the_ml100k_range(ml100k: Dataset, ml100k_split: Split) -> None:
    train, valid, test = (ml100k.matrix(p) for p in (ml100k_split.train, ml100k_split.valid, ml100k_split.test))
    model = create_model("als").fit(train, valid)
    iterations = [it for it, _ in model.history_]
    assert iterations == list(range(3, 3 * len(iterations) + 1, 3))
    assert model.best_valid_ndcg_ == max(score for _, score in model.history_)
    again = create_model("als").fit(train, valid)
    np.testing.assert_array_equal(model.score(np.arange(50)), again.score(np.arange(50)))
    # seed 0: Recall@10 0.271, NDCG@10 0.332 (EASE level; default BPR is 0.235 / 0.282).
    assert 0.25 < mean_metric(model, test, train + valid, "recall", 10) < 0.29
    assert 0.31 < mean_metric(model, test, train + valid, "ndcg", 10) < 0.35
