"""``link-prediction``: relation generation on the user-item graph by self-training (pseudo-labelling).

A recommender trained on the training split alone (BPR by default, or LightGCN, a graph neural network over the
user-item graph; any registered model works) scores every unobserved edge of the target users. Its most confident
edges, those whose plausibility (the chance of outranking a random catalog item) is at least ``threshold``, become
synthetic interactions: the model's own predictions fed back as training data.
"""

from __future__ import annotations

from typing import Any, ClassVar, Unpack

import numpy as np
import pandas as pd

from recaug.augment.base import Augmenter, AugmentOptions, Target, register
from recaug.augment.graph.train_model import fit_train_model, model_embeddings
from recaug.augment.ranking import top_unseen_rows
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn
from recaug.data.dataset import TrainingData


@register
class LinkPredictionAugmenter(Augmenter):
    """Adds a train-only model's most confident unobserved edges per target user."""

    name = "link-prediction"
    description = "Self-training: a BPR/LightGCN trained on train adds its most confident unobserved edges"
    family = "graph"

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "model": [str],  # a registered model's name; the registry names the valid ones
        "model_params": [dict, None],
        "threshold": [Interval(float, 0.0, 1.0)],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        model: str = "bpr",
        model_params: dict[str, Any] | None = None,
        threshold: float = 0.9,
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.model = model
        self.model_params = model_params
        self.threshold = threshold

    def _fit(self, train: TrainingData) -> None:
        self.model_ = fit_train_model(
            train, model=self.model, seed=self.seed, params=self.model_params, progress=self._progress
        )
        self.artifacts_.update(model_embeddings(self.model_))

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        rows = top_unseen_rows(
            self.train_,
            target,
            self.model_.score,
            budget,
            min_confidence=self.threshold,
            progress=progress,
            message=f"{self.model}: scoring unobserved edges",
        )
        self.info_["mean_plausibility"] = round(float(rows["confidence"].mean()), 4) if len(rows) else None
        return rows
