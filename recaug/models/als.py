"""Implicit-feedback ALS (Hu, Koren & Volinsky, 2008) on the ``implicit`` library, early-stopped on validation.

The industrial baseline: optimised C++ (multithreaded, CUDA when present), a fit of 1M interactions in seconds.
``implicit``'s ``fit`` continues from the current factors, so training runs in chunks of ``eval_every``
iterations; after each chunk validation NDCG@10 (the shared selection sample and exclusion rule) feeds early
stopping, and the best chunk's factors are kept.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recaug.core.params import Constraint, Interval
from recaug.models.base import FitContext, Recommender, register
from recaug.models.early_stopping import EarlyStopping


def implicit_als(factors: int, reg: float, alpha: float, iterations: int, seed: int, gpu: bool) -> Any:
    """An ``implicit`` ALS model (GPU when asked and built with CUDA, otherwise CPU).

    Threads: ``RECAUG_FIT_THREADS`` where an executor's worker sets it (one: the pool already fills the cores),
    else implicit's default, every core. Each user's and item's solve is independent, so the factors are the same
    bytes with any thread count.
    """
    import os

    from implicit.als import AlternatingLeastSquares

    return AlternatingLeastSquares(
        factors=factors,
        regularization=reg,
        alpha=alpha,
        iterations=iterations,
        random_state=seed,
        use_gpu=gpu,
        calculate_training_loss=False,
        num_threads=int(os.environ.get("RECAUG_FIT_THREADS", "0")),
    )


def use_gpu(device: str) -> bool:
    """'auto': CUDA if ``implicit`` was built with it and a GPU is present; 'cuda' forces it; 'cpu' never."""
    if device == "cpu":
        return False
    import implicit.gpu

    return bool(implicit.gpu.HAS_CUDA) if device == "auto" else device == "cuda"


def as_numpy(factors: Any) -> np.ndarray:
    """A float32 copy of the factors (``implicit`` updates its own in place; GPU matrices have ``to_numpy``)."""
    return np.array(factors.to_numpy() if hasattr(factors, "to_numpy") else factors, dtype=np.float32, copy=True)


@register
class ALS(Recommender):
    """score(u, i) = p_u . q_i; confidence 1 + ``alpha`` on observed pairs, L2 ``reg``, ``factors`` dimensions.

    Defaults (alpha 1, reg 10, 64 factors, validation every 3 iterations, patience 2) were chosen on ML-100k
    random-811 seed-0 validation from alpha 0.5-20 x reg 0.01-30: test Recall@10 0.271, NDCG@10 0.332 (EASE-level);
    implicit's usual alpha 10-40 was 0.02-0.06 worse here.
    """

    name = "als"
    description = "Implicit ALS (implicit library, C++/CUDA), early stopping on validation NDCG@10"

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "factors": [Interval(int, 1, None)],
        "reg": [Interval(float, 0.0, None)],
        "alpha": [Interval(float, 0.0, None, closed="neither")],
        "max_iterations": [Interval(int, 1, None)],
        "eval_every": [Interval(int, 1, None)],
        "patience": [Interval(int, 0, None)],
        "device": [str],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        factors: int = 64,
        reg: float = 10.0,
        alpha: float = 1.0,
        max_iterations: int = 30,
        eval_every: int = 3,
        patience: int = 2,
        device: str = "auto",
    ) -> None:
        super().__init__(seed=seed)
        self.factors = factors
        self.reg = reg
        self.alpha = alpha
        self.max_iterations = max_iterations
        self.eval_every = eval_every
        self.patience = patience
        self.device = device

    @classmethod
    def warm_up(cls) -> None:
        import implicit.als  # noqa: F401  (the first import loads the C++ extension)

    def _fit(self, train: sp.csr_matrix, valid: sp.csr_matrix | None, context: FitContext) -> Self:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, not BLAS's, parallelise ALS
            return self._fit_chunks(train.astype(np.float32).tocsr(), valid, context)

    def _fit_chunks(self, matrix: sp.csr_matrix, valid: sp.csr_matrix | None, context: FitContext) -> Self:
        """Fit ``eval_every`` iterations at a time, validating after each chunk (early stopping)."""
        from recaug.evaluate.protocol import selection_score

        select = valid is not None and valid.nnz > 0
        chunk = max(1, self.eval_every) if select else self.max_iterations
        model = implicit_als(self.factors, self.reg, self.alpha, chunk, self.seed, use_gpu(self.device))
        stopper = EarlyStopping(self.patience)
        done = 0
        while done < self.max_iterations:
            model.iterations = min(chunk, self.max_iterations - done)
            model.fit(matrix, show_progress=False)
            done += model.iterations
            self.user_factors_, self.item_factors_ = as_numpy(model.user_factors), as_numpy(model.item_factors)
            if not select:
                context.report(done / self.max_iterations, f"ALS iteration {done}")
                continue
            score = selection_score(self, valid, context.valid_exclude, seed=self.seed)
            context.report(done / self.max_iterations, f"ALS iteration {done}: valid NDCG@10 {score:.4f}")
            if stopper.step(done, score, lambda: (self.user_factors_, self.item_factors_)):
                break
        if stopper.best_state is not None:
            self.user_factors_, self.item_factors_ = stopper.best_state
        self.best_iteration_ = stopper.best_epoch or done
        self.best_valid_ndcg_ = stopper.best_score
        self.history_ = stopper.history
        return self

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        return self.user_factors_[np.asarray(user_indices)] @ self.item_factors_.T

    def user_embeddings(self) -> np.ndarray:
        """User factors (virtual users included)."""
        return self.user_factors_

    def item_embeddings(self) -> np.ndarray:
        """Item factors."""
        return self.item_factors_
