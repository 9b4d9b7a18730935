"""ALS on ``implicit``: early stopping inside one implicit fit keeps its own factors; real ML-100k range."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recaug.data.dataset import Dataset
from recaug.data.splits import Split
from recaug.evaluate.protocol import mean_metric
from recaug.models import create_model
from recaug.models.als import implicit_als


def test_the_early_stopped_factors_are_implicits_own_at_the_chosen_iteration() -> None:
    """Validation runs inside one implicit fit (its per-iteration callback): the kept factors are exactly what
    implicit's plain fit of ``best_iteration_`` iterations gives, and the fit ends ``patience`` looks later."""
    rng = np.random.default_rng(0)
    x = sp.csr_matrix((rng.random((60, 40)) < 0.15).astype(np.float32))
    valid = sp.csr_matrix((rng.random((60, 40)) < 0.05).astype(np.float32) - x.multiply(1.0)).maximum(0)
    ours = create_model("als", factors=8, reg=0.1, max_iterations=30, eval_every=2, patience=2, device="cpu")
    ours.fit(x, valid)
    # Validation every 2 iterations; stopped two looks after the best (seed 0: best at 2, stopped at 6 of 30).
    assert [it for it, _ in ours.history_] == [2, 4, 6] and ours.best_iteration_ == 2
    plain = implicit_als(8, 0.1, 1.0, ours.best_iteration_, seed=0, gpu=False)
    plain.fit(x, show_progress=False)
    np.testing.assert_array_equal(ours.user_factors_, plain.user_factors)
    np.testing.assert_array_equal(ours.item_factors_, plain.item_factors)
    whole = create_model("als", factors=8, reg=0.1, max_iterations=6, device="cpu").fit(x)  # no validation
    plain = implicit_als(8, 0.1, 1.0, 6, seed=0, gpu=False)
    plain.fit(x, show_progress=False)
    np.testing.assert_array_equal(whole.user_factors_, plain.user_factors)


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
