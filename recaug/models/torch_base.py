"""What the torch embedding models (BPR, LightGCN) share: lazy torch, a fixed thread count, validation every
``eval_every`` epochs feeding early stopping, and the record of what validation chose."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recaug.models.base import Recommender
from recaug.models.early_stopping import EarlyStopping
from recaug.models.torch_utils import pick_device, torch_generator, torch_threads
from recaug.progress import ProgressFn, no_progress


class EarlyStoppedTorchModel(Recommender):
    """Subclasses implement ``_fit`` and set ``max_epochs`` and ``eval_every``; ``fit`` wraps it in a thread limit."""

    progress_label: ClassVar[str]
    max_epochs: int
    eval_every: int
    device: str

    @classmethod
    def warm_up(cls) -> None:
        import torch  # noqa: F401  (imported lazily elsewhere; a first import costs seconds)

    def training_threads(self) -> int:
        """Intra-op threads while training (one: small batches gain nothing and spin-wait on shared cores)."""
        return 1

    def fit(
        self, train: sp.csr_matrix, valid: sp.csr_matrix | None = None, *, progress: ProgressFn | None = None
    ) -> Self:
        with torch_threads(self.training_threads()):
            return self._fit(train, valid, progress or no_progress)

    @abstractmethod
    def _fit(self, train: sp.csr_matrix, valid: sp.csr_matrix | None, report: ProgressFn) -> Self:
        """Train, calling ``validation_score`` once per epoch and ``keep_selection`` at the end."""

    def training_setup(self) -> tuple[Any, Any, np.random.Generator]:
        """(device, seeded torch generator for initialisation, seeded numpy generator for sampling)."""
        device = pick_device(self.device)
        return device, torch_generator(self.seed, device), np.random.default_rng(self.seed)

    def validation_score(
        self,
        epoch: int,
        train: sp.csr_matrix,
        valid: sp.csr_matrix | None,
        report: ProgressFn,
        prepare: Callable[[], None] | None = None,
    ) -> float | None:
        """Validation NDCG@10 on evaluation epochs (``prepare`` first makes ``score`` current), else None."""
        from recaug.evaluate.protocol import mean_metric

        if valid is None or epoch % self.eval_every:
            report(epoch / self.max_epochs, f"{self.progress_label} epoch {epoch}")
            return None
        if prepare is not None:
            prepare()
        score = mean_metric(self, valid, train, "ndcg", 10)
        report(epoch / self.max_epochs, f"{self.progress_label} epoch {epoch}: valid NDCG@10 {score:.4f}")
        return score

    def keep_selection(self, stopper: EarlyStopping) -> None:
        """Record what validation chose: the epoch, its score and the whole history."""
        self.best_epoch_ = stopper.best_epoch or self.max_epochs
        self.best_valid_ndcg_ = stopper.best_score
        self.history_ = stopper.history
