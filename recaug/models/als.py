"""Implicit-feedback ALS (Hu, Koren & Volinsky, 2008) on the ``implicit`` library, early-stopped on validation.

The industrial baseline: optimised C++ (multithreaded, CUDA when present), a fit of 1M interactions in seconds.
One ``implicit`` fit runs every iteration; its per-iteration callback computes validation NDCG@10 (the shared
selection sample and exclusion rule) every ``eval_every`` iterations for early stopping, and the best look's factors
are kept.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recaug.core.params import Constraint, Interval
from recaug.models.base import VALID_SCORE, FitContext, Recommender, register
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


class _Stopped(Exception):
    """Raised from ``implicit``'s per-iteration callback: its ``fit`` loop has no other way to end early."""

    def __init__(self, iteration: int) -> None:
        super().__init__(iteration)
        self.iteration = iteration


@register
class ALS(Recommender):
    """score(u, i) = p_u . q_i; confidence 1 + ``alpha`` on observed pairs, L2 ``reg``, ``factors`` dimensions.

    Defaults (alpha 1, reg 10, 64 factors, validation every 3 iterations, patience 2) were chosen on ML-100k
    random-811 seed-0 validation from alpha 0.5-20 x reg 0.01-30: test Recall@10 0.271, NDCG@10 0.332 (EASE-level);
    implicit's usual alpha 10-40 was 0.02-0.06 worse here.
    """

    name = "als"
    description = "Implicit ALS (implicit library, C++/CUDA), early stopping on validation NDCG@10"
    selects_on_validation = True

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
            return self._fit_validated(train.astype(np.float32).tocsr(), valid, context)

    def _fit_validated(self, matrix: sp.csr_matrix, valid: sp.csr_matrix | None, context: FitContext) -> Self:
        """One ``implicit`` fit of up to ``max_iterations``; its per-iteration callback validates every
        ``eval_every`` iterations (and after the last) and ends the fit once early stopping says so.

        One call, not a call per chunk: each ``fit`` call transposes the matrix again (a tenth of an iteration at
        ML-100k). The factors are the same bytes either way (the solver only continues from the current factors).
        """
        from recaug.evaluate.protocol import selection_score

        select = valid is not None and valid.nnz > 0
        model = implicit_als(self.factors, self.reg, self.alpha, self.max_iterations, self.seed, use_gpu(self.device))
        stopper = EarlyStopping(self.patience)

        def after_iteration(iteration: int, _seconds: float, _loss: float | None) -> None:
            done = iteration + 1
            if not select or (done % self.eval_every and done < self.max_iterations):
                context.report(done / self.max_iterations, f"ALS iteration {done}")
                return
            self.user_factors_, self.item_factors_ = as_numpy(model.user_factors), as_numpy(model.item_factors)
            score = selection_score(self, valid, context.valid_exclude, seed=self.seed)
            context.report(done / self.max_iterations, f"ALS iteration {done}: valid NDCG@10 {score:.4f}")
            if stopper.step(done, score, lambda: (self.user_factors_, self.item_factors_)):
                raise _Stopped(done)

        done = self.max_iterations
        try:
            model.fit(matrix, show_progress=False, callback=after_iteration)
        except _Stopped as stopped:
            done = stopped.iteration
        if stopper.best_state is not None:
            self.user_factors_, self.item_factors_ = stopper.best_state
        else:
            self.user_factors_, self.item_factors_ = as_numpy(model.user_factors), as_numpy(model.item_factors)
        self.best_iteration_ = stopper.best_epoch or done
        self.iterations_run_ = done
        self.best_valid_ndcg_ = stopper.best_score
        self.history_ = stopper.history
        return self

    def selection(self) -> dict[str, Any]:
        """The iteration early stopping kept, the iterations run and its validation NDCG@10 (empty without
        validation)."""
        if not getattr(self, "history_", None):
            return {}
        return {
            "iteration": int(self.best_iteration_),
            "iterations_run": int(self.iterations_run_),
            VALID_SCORE: float(self.best_valid_ndcg_),
        }

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        return self.user_factors_[np.asarray(user_indices)] @ self.item_factors_.T

    def user_embeddings(self) -> np.ndarray:
        """User factors (virtual users included)."""
        return self.user_factors_

    def item_embeddings(self) -> np.ndarray:
        """Item factors."""
        return self.item_factors_
