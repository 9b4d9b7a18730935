"""The recommender contract: ``fit(train, valid=None, *, progress, valid_exclude, negatives, item_init) -> self``,
``score``.

Models work on index space: ``train``/``valid`` are binary user x item CSR
matrices built by :class:`recaug.data.dataset.Dataset`. Ranking, top-k and the
exclusion of already-seen items happen once, in :mod:`recaug.evaluate`.

* ``valid_exclude`` (users x items, same shape as ``train``): what validation ranking excludes during model
  selection. The experiment passes the *real* training history (empty rows for virtual users), so an augmented
  arm is selected on the same criterion as the baseline (its synthetic items are not hidden from validation).
  ``None`` excludes ``train`` itself.
* ``negatives`` (same shape as ``train``): fixed hard negatives, e.g. from an LLM (LLMRec). Only models with
  ``uses_negatives = True`` read them; the others ignore them, and the UI/CLI say so.
* ``item_init`` (items x d float array, NaN rows for items without one): item vectors to start the item factors
  from (``llm-init``: text embeddings). Only models with ``uses_item_init = True`` read them (projecting them to
  their own dimension); the others ignore them, and the UI/CLI say so.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recaug.core.errors import RecaugInputError
from recaug.core.params import Constraint, Interval, Parameterised
from recaug.core.progress import ProgressFn, no_progress
from recaug.core.registry import Registry, subclass_check

VALID_SCORE = "valid_ndcg@10"  # the key of ``Recommender.selection`` holding the chosen point's validation score


@dataclass(frozen=True)
class FitContext:
    """What ``fit`` hands to ``_fit`` besides the data: checked once, in :meth:`Recommender.fit`."""

    report: ProgressFn
    valid_exclude: sp.csr_matrix  # what validation ranking excludes (the training matrix unless given)
    negatives: sp.csr_matrix | None  # fixed negatives, read only by models with uses_negatives
    item_init: np.ndarray | None = None  # item start vectors, read only by models with uses_item_init


class Recommender(Parameterised, ABC):
    """Base class: keyword-only constructor parameters, learned state in attributes ending in ``_``."""

    name: ClassVar[str]
    description: ClassVar[str]
    uses_negatives: ClassVar[bool] = False  # whether ``fit`` reads ``negatives``
    uses_item_init: ClassVar[bool] = False  # whether ``fit`` reads ``item_init``
    # Whether ``fit`` ranks validation users to choose (epochs, a grid): the run says how many a look ranks.
    selects_on_validation: ClassVar[bool] = False
    # True when the fit has nothing random: the model seed changes nothing (on a fixed split it has no replicate).
    deterministic: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {"seed": [Interval(int, 0, None)]}

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed

    @classmethod
    def warm_up(cls) -> None:
        """Load heavy libraries now, so the first ``fit`` timed in a process measures fitting, not imports."""

    def fit(
        self,
        train: sp.csr_matrix,
        valid: sp.csr_matrix | None = None,
        *,
        progress: ProgressFn | None = None,
        valid_exclude: sp.csr_matrix | None = None,
        negatives: sp.csr_matrix | None = None,
        item_init: np.ndarray | None = None,
    ) -> Self:
        """Learn from ``train``; ``valid`` may only be used for early stopping / model selection.

        Checks the size (``check_size``) and the optional matrices against ``train`` (a :class:`RecaugInputError`
        naming the mismatch), then calls the model's ``_fit``.
        """
        self.validate_params()
        train = train.tocsr()
        self.check_size(train.shape[0], train.shape[1], n_interactions=train.nnz)
        fix = "pass the real training matrix padded with empty rows for virtual users"
        exclude = aligned_with_train("valid_exclude", valid_exclude, train, fix)
        context = FitContext(
            report=progress or no_progress,
            valid_exclude=train if exclude is None else exclude,  # default: selection excludes train itself
            negatives=aligned_with_train(
                "negatives", negatives, train, "build the fixed negatives on the training matrix's user and item index"
            ),
            item_init=item_vectors_for(item_init, train.shape[1]),
        )
        return self._fit(train, valid.tocsr() if valid is not None else None, context)

    @abstractmethod
    def _fit(self, train: sp.csr_matrix, valid: sp.csr_matrix | None, context: FitContext) -> Self:
        """The model's training; ``context`` carries progress, the selection exclusion and fixed negatives."""

    def check_size(self, n_users: int, n_items: int, n_interactions: int | None = None) -> None:
        """Raise :class:`RecaugInputError` (saying what to do) if data of this size cannot be fitted here.

        ``n_interactions``: the number of training interactions when known (up front: the whole data set's).

        Called by ``fit``, and meant to be called up front (before augmenting) so a run is refused at once
        instead of failing or being killed later. Default: every size is accepted.
        """

    @abstractmethod
    def score(self, user_indices: np.ndarray) -> np.ndarray:
        """Dense float32 scores, shape (len(user_indices), n_items); higher is better."""

    def selection(self) -> dict[str, Any]:
        """What validation chose in the last ``fit`` (setting -> value, plus ``VALID_SCORE``: the chosen point's
        validation NDCG@10); empty where nothing was chosen (no validation, or a model that chooses nothing).

        Why: a run keeps it per (model, arm, seed) so a reader can see each arm got the same selection rules and
        what they picked (``ExperimentResult.chosen``, ``selection.csv``). Small JSON-able numbers only: it travels
        back from every fit, across process and Ray boundaries.
        """
        return {}


def aligned_with_train(name: str, matrix: sp.csr_matrix | None, train: sp.csr_matrix, fix: str) -> sp.csr_matrix | None:
    """``matrix`` as CSR after checking it has ``train``'s shape (None stays None); ``fix`` says what to pass."""
    if matrix is None:
        return None
    if matrix.shape != train.shape:
        raise RecaugInputError(f"{name} has shape {matrix.shape}, the training matrix {train.shape}", fix=fix)
    return matrix.tocsr()


def item_vectors_for(item_init: np.ndarray | None, n_items: int) -> np.ndarray | None:
    """``item_init`` as a float array after checking it has one row per item (None stays None)."""
    if item_init is None:
        return None
    vectors = np.asarray(item_init, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != n_items:
        raise RecaugInputError(
            f"item_init has shape {vectors.shape}, expected one row per item ({n_items} rows)",
            fix="build the item vectors on the training matrix's item index (NaN rows for items without a vector)",
        )
    return vectors


MODELS: Registry[type[Recommender]] = Registry(
    "model", entry_point_group="recaug.models", check=subclass_check(Recommender, "a recommender")
)


def register(cls: type[Recommender]) -> type[Recommender]:
    """Class decorator: add a model under its ``name``."""
    MODELS.add(cls.name, cls)
    return cls


def create_model(name: str, **params: Any) -> Recommender:
    """Instantiate a registered model, rejecting unknown parameters loudly."""
    return MODELS.get(name).create(f"model {name}", **params)
