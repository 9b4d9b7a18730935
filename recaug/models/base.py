"""The recommender contract: ``fit(train, valid=None, *, progress=None) -> self`` and ``score(users)``.

Models work on index space: ``train``/``valid`` are binary user x item CSR
matrices built by :class:`recaug.data.dataset.Dataset`. Ranking, top-k and the
exclusion of already-seen items happen once, in :mod:`recaug.evaluate`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recaug.params import Parameterised
from recaug.progress import ProgressFn
from recaug.registry import Registry


class Recommender(Parameterised, ABC):
    """Base class: keyword-only constructor parameters, learned state in attributes ending in ``_``."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed

    @classmethod
    def warm_up(cls) -> None:
        """Load heavy libraries now, so the first ``fit`` timed in a process measures fitting, not imports."""

    @abstractmethod
    def fit(
        self, train: sp.csr_matrix, valid: sp.csr_matrix | None = None, *, progress: ProgressFn | None = None
    ) -> Self:
        """Learn from ``train``; ``valid`` may only be used for early stopping / model selection."""

    @abstractmethod
    def score(self, user_indices: np.ndarray) -> np.ndarray:
        """Dense float32 scores, shape (len(user_indices), n_items); higher is better."""


MODELS: Registry[type[Recommender]] = Registry("model")


def register(cls: type[Recommender]) -> type[Recommender]:
    """Class decorator: add a model under its ``name``."""
    MODELS.add(cls.name, cls)
    return cls


def create_model(name: str, **params: Any) -> Recommender:
    """Instantiate a registered model, rejecting unknown parameters loudly."""
    return MODELS.get(name).create(f"model {name}", **params)
