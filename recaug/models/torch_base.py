"""What the torch embedding models (BPR, LightGCN) share: lazy torch, a fixed thread count, one BPR sampler per fit
(with the fixed negatives, if any), validation every ``eval_every`` epochs (every epoch on long ones, see
``evaluation_interval``) on the selection sample feeding early stopping, and the record of what validation chose."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Self, TypedDict

import numpy as np
import scipy.sparse as sp

from recaug.core.params import Constraint, Interval
from recaug.core.torch_utils import pick_device, torch_generator, torch_threads
from recaug.models.base import VALID_SCORE, FitContext, Recommender
from recaug.models.bpr_sampling import FIXED_NEGATIVE_SHARE, BPRSampler
from recaug.models.early_stopping import EarlyStopping

# Real training interactions above which an epoch is long (1,000+ steps of 2,048): validation then runs after
# every epoch, whatever ``eval_every`` says, so patience (in evaluations) waits that many epochs, not twice that.
LONG_EPOCH_INTERACTIONS = 2_000_000


class SharedTraining(TypedDict, total=False):
    """The training options every torch model takes with the same default, typed once for the ``**shared`` a
    subclass forwards to :class:`EarlyStoppedTorchModel` (defaults and meaning live in its ``__init__``)."""

    seed: int
    factors: int
    eval_every: int
    device: str
    fixed_negative_share: float


class EarlyStoppedTorchModel(Recommender):
    """Subclasses implement ``_train``; the constructor holds the training options they all have.

    Its defaults are BPR's (RecBole's settings); a subclass that needs others (LightGCN) declares those options in
    its own signature with its defaults and forwards the rest as ``**shared``.
    """

    progress_label: ClassVar[str]
    init: ClassVar[str] = "xavier_normal"  # how RecBole starts this model's embeddings (see initial_embeddings)
    uses_negatives = True  # a share of sampled negatives comes from the fixed ones
    selects_on_validation = True
    uses_item_init = True  # item factors can start from given item vectors (llm-init)
    factors: int
    max_epochs: int
    eval_every: int
    device: str
    fixed_negative_share: float
    # The training parameters every subclass's constructor has (BPR, LightGCN); each adds its own.
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "factors": [Interval(int, 1, None)],
        "lr": [Interval(float, 0.0, None, closed="neither")],
        "reg": [Interval(float, 0.0, None)],
        "batch_size": [Interval(int, 1, None)],
        "max_epochs": [Interval(int, 1, None)],
        "patience": [Interval(int, 0, None)],
        "eval_every": [Interval(int, 1, None)],
        "device": [str],
        "fixed_negative_share": [Interval(float, 0.0, 1.0)],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        factors: int = 64,
        lr: float = 0.001,
        reg: float = 1e-5,
        batch_size: int = 2048,
        max_epochs: int = 300,
        patience: int = 6,
        eval_every: int = 2,
        device: str = "auto",
        fixed_negative_share: float = FIXED_NEGATIVE_SHARE,
    ) -> None:
        super().__init__(seed=seed)
        self.factors = factors
        self.lr = lr
        self.reg = reg
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.eval_every = eval_every
        self.device = device
        self.fixed_negative_share = fixed_negative_share

    @classmethod
    def warm_up(cls) -> None:
        import torch  # noqa: F401  (imported lazily elsewhere; a first import costs seconds)

        from recaug.models.bpr_kernel import warm_up

        warm_up()  # the sampler's (and BPR's) compiled loops, before a pool forks

    def training_threads(self) -> int:
        """Intra-op threads while training (one: small batches gain nothing and spin-wait on shared cores)."""
        return 1

    def _fit(self, train: sp.csr_matrix, valid: sp.csr_matrix | None, context: FitContext) -> Self:
        sampler = BPRSampler(train, context.negatives, self.fixed_negative_share)
        with torch_threads(self.training_threads()):
            return self._train(train, valid, sampler, context)

    @abstractmethod
    def _train(
        self, train: sp.csr_matrix, valid: sp.csr_matrix | None, sampler: BPRSampler, context: FitContext
    ) -> Self:
        """Train on the sampler's epochs; call ``validation_score`` every epoch and ``keep_selection`` at the end."""

    def training_setup(self) -> tuple[Any, Any, np.random.Generator]:
        """(device, seeded torch generator for initialisation, seeded numpy generator for sampling)."""
        device = pick_device(self.device)
        return device, torch_generator(self.seed, device), np.random.default_rng(self.seed)

    def initial_embeddings(self, n_rows: int, context: FitContext, gen: Any, device: Any, *, items: bool) -> Any:
        """A (n_rows x factors) table started as RecBole starts its embeddings: xavier over this table's shape
        (``init``: normal for BPR, uniform for LightGCN; either way the spread is sqrt(2 / (n_rows + factors))); an
        item table's rows (``items``) are then replaced by ``context.item_init`` projected to ``factors``
        dimensions at that spread (see :mod:`recaug.models.item_init`).

        Why xavier: on RecBole's own ML-100k split, BPR started from N(0, 0.1) reached 0.93x RecBole's NDCG@10;
        xavier's smaller spread (0.034-0.045 here) closes the gap at the same cost (``benchmarks/recbole_parity``).
        The noise is drawn for every row either way, so a seed's random stream does not depend on the init.
        """
        import torch

        from recaug.models.item_init import start_item_factors

        table = torch.empty(n_rows, self.factors, device=device)
        std = float(np.sqrt(2.0 / (n_rows + self.factors)))
        if self.init == "xavier_uniform":
            torch.nn.init.uniform_(table, -std * np.sqrt(3.0), std * np.sqrt(3.0), generator=gen)
        else:
            torch.nn.init.normal_(table, std=std, generator=gen)
        if context.item_init is not None and items:
            start = start_item_factors(table.cpu().numpy(), context.item_init, std)
            table = torch.as_tensor(start, device=device)
        return table

    def validation_score(
        self,
        epoch: int,
        valid: sp.csr_matrix | None,
        context: FitContext,
        prepare: Callable[[], None] | None = None,
    ) -> float | None:
        """Validation NDCG@10 on evaluation epochs (``prepare`` first makes ``score`` current), else None.

        Ranked on the fixed user sample of :func:`recaug.evaluate.protocol.selection_score`, excluding
        ``context.valid_exclude`` (the real training history, in an experiment).
        """
        from recaug.evaluate.protocol import selection_score

        if valid is None or valid.nnz == 0 or epoch % self.evaluation_interval(context):
            context.report(epoch / self.max_epochs, f"{self.progress_label} epoch {epoch}")
            return None
        if prepare is not None:
            prepare()
        score = selection_score(self, valid, context.valid_exclude, seed=self.seed)
        context.report(epoch / self.max_epochs, f"{self.progress_label} epoch {epoch}: valid NDCG@10 {score:.4f}")
        return score

    def evaluation_interval(self, context: FitContext) -> int:
        """Epochs between validations: ``eval_every``, or 1 when the real training history (``valid_exclude``, the
        same matrix for every arm of an experiment) has more than ``LONG_EPOCH_INTERACTIONS`` interactions.

        Why: at 10M interactions an epoch is 3,900 steps (15-20 CPU-s) and the validation curve is smooth (a fixed
        sample of thousands of users), so waiting ``patience`` x 2 epochs after the best one was a third of the fit;
        validating costs a few percent of an epoch there. Reading the real history, not ``train``, keeps an augmented
        arm on the baseline's schedule.
        """
        return 1 if context.valid_exclude.nnz > LONG_EPOCH_INTERACTIONS else self.eval_every

    def keep_selection(self, stopper: EarlyStopping) -> None:
        """Record what validation chose: the epoch, its score, the whole history and how many epochs ran (the
        last look where early stopping ended the loop, else every epoch)."""
        self.best_epoch_ = stopper.best_epoch or self.max_epochs
        self.best_valid_ndcg_ = stopper.best_score
        self.history_ = stopper.history
        stopped = bool(stopper.history) and stopper.bad_rounds >= max(stopper.patience, 1)
        self.epochs_run_ = stopper.history[-1][0] if stopped else self.max_epochs

    def selection(self) -> dict[str, Any]:
        """The epoch early stopping kept, the epochs run and the kept epoch's validation NDCG@10 (empty without
        validation: the last epoch is used, nothing was chosen)."""
        if not getattr(self, "history_", None):
            return {}
        best = float(self.best_valid_ndcg_)
        return {"epoch": int(self.best_epoch_), "epochs_run": int(self.epochs_run_), VALID_SCORE: best}
