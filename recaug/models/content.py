"""A content-aware model for cold items: item text embeddings mapped into a collaborative factor space.

1. Collaborative factors: a truncated SVD of the training matrix (PureSVD). Users are folded in
   (``p_u = x_u V``), so ``score(u, j) = p_u . v_j`` and any item vector in that space can be scored.
2. A ridge map ``W`` from the item's text embedding to its factor vector ``v_j``, learned on warm items.
3. Items without training interactions get ``scale * t_j W``; with ``item_source="text"`` every item does (a pure
   content model). ``scale`` undoes ridge shrinkage so cold and warm items compete on one scale. With validation
   data, ``scale`` is chosen from ``scale_grid`` by validation NDCG@10 (the ``cold-items`` protocol puts held-out
   items in validation for exactly this); without it the fixed ``scale`` is used. ``ridge`` is fixed: tuning it
   too on ML-100k cold-items gave a flat validation curve whose choice swung test results widely.

Item texts come from the experiment through :meth:`ContentModel.set_item_texts` (the hook announced by
``needs_item_texts``), so the texts never travel through the constructor parameters or ``config.json``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recaug.core.errors import RecaugInputError
from recaug.core.params import Constraint, Interval, Options
from recaug.models.base import VALID_SCORE, FitContext, Recommender, register
from recaug.text.encoder import DEFAULT_ENCODER, encode_texts
from recaug.text.finetune import encoder_for

log = logging.getLogger(__name__)
ITEM_SOURCES = ("hybrid", "text")


def ridge_map(inputs: np.ndarray, targets: np.ndarray, reg: float) -> np.ndarray:
    """W minimising ||inputs W - targets||^2 + reg ||W||^2 (closed form on the small input side)."""
    gram = inputs.T @ inputs
    gram[np.diag_indices_from(gram)] += reg
    return np.linalg.solve(gram, inputs.T @ targets)


@register
class ContentModel(Recommender):
    """PureSVD factors for warm items, text-mapped factors for cold items (or for all, ``item_source='text'``)."""

    name = "content"
    description = "Content-aware: item text embeddings mapped to SVD item factors (scores cold items)"
    selects_on_validation = True
    needs_item_texts: ClassVar[bool] = True

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "factors": [Interval(int, 1, None)],
        "ridge": [Interval(float, 0.0, None)],
        "scale": [Interval(float, 0.0, None, closed="neither")],
        "scale_grid": [tuple, list],
        "item_source": [Options(ITEM_SOURCES)],
        "encoder": [str],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        factors: int = 64,
        ridge: float = 10.0,
        scale: float = 2.0,
        scale_grid: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0),
        item_source: str = "hybrid",
        encoder: str = DEFAULT_ENCODER,
    ) -> None:
        super().__init__(seed=seed)
        self.factors = factors
        self.ridge = ridge
        self.scale = scale
        self.scale_grid = scale_grid
        self.item_source = item_source
        self.encoder = encoder

    def set_item_texts(self, texts: Sequence[str]) -> Self:
        """Give the catalog's item texts, aligned with the item index (call before ``fit``)."""
        self.item_texts_ = [str(t) for t in texts]
        return self

    def text_embeddings(self, texts: Sequence[str]) -> np.ndarray:
        """Encoder vectors for ``texts`` (disk-cached); ``encoder="tuned"`` is the one fitted on the training matrix."""
        return encode_texts(list(texts), model=getattr(self, "encoder_", self.encoder))

    def _fit(self, train: sp.csr_matrix, valid: sp.csr_matrix | None, context: FitContext) -> Self:
        from sklearn.utils.extmath import randomized_svd

        from recaug.evaluate.protocol import selection_score

        report = context.report
        if self.item_source not in ITEM_SOURCES:
            raise RecaugInputError(
                f"content: item_source must be one of {', '.join(ITEM_SOURCES)}", fix="use 'hybrid' (default) or 'text'"
            )
        texts = getattr(self, "item_texts_", None)
        if texts is None or len(texts) != train.shape[1]:
            raise RecaugInputError(
                "the content model needs one text per item",
                fix="call set_item_texts(items['text']) before fit (run_experiment does this)",
            )
        report(0.1, "content: embedding item texts")
        self.encoder_ = encoder_for(self.encoder, train, texts, seed=self.seed)
        embeddings = self.text_embeddings(texts)
        x = train.astype(np.float32).tocsr()
        k = max(1, min(self.factors, min(x.shape) - 1))
        _, _, vt = randomized_svd(x, n_components=k, random_state=self.seed)
        item_factors = vt.T.astype(np.float32)
        self.warm_ = np.asarray(x.sum(axis=0)).ravel() > 0
        if not self.warm_.any():
            raise RecaugInputError("the content model needs at least one item with training interactions")
        self.user_factors_ = np.asarray(x @ item_factors, dtype=np.float32)
        self.cf_factors_ = item_factors
        mapped = ~self.warm_ if self.item_source == "hybrid" else np.ones_like(self.warm_)
        tune = valid is not None and valid.nnz > 0
        self.map_ = ridge_map(embeddings[self.warm_], item_factors[self.warm_], self.ridge).astype(np.float32)
        self.text_factors_ = embeddings @ self.map_
        self.valid_ndcg_: dict[float, float] = {}
        best = (-1.0, float(self.scale))
        for scale in self.scale_grid if tune else (self.scale,):
            self._place(float(scale), mapped)
            if tune:
                score = selection_score(self, valid, context.valid_exclude, seed=self.seed)
                self.valid_ndcg_[float(scale)] = score
                best = max(best, (score, float(scale)), key=lambda entry: entry[0])
        if tune:
            self._place(best[1], mapped)
        report(1.0, f"content: cold-item scale {self.scale_:g}")
        return self

    def selection(self) -> dict[str, Any]:
        """The cold-item scale chosen from ``scale_grid`` and its validation NDCG@10 (empty without validation)."""
        if not getattr(self, "valid_ndcg_", None):
            return {}
        return {"scale": self.scale_, VALID_SCORE: float(self.valid_ndcg_[self.scale_])}

    def _place(self, scale: float, mapped: np.ndarray) -> None:
        """Use the text-mapped factors, times ``scale``, for the ``mapped`` items."""
        self.scale_ = scale
        self.item_factors_ = np.where(mapped[:, None], scale * self.text_factors_, self.cf_factors_)

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        return self.user_factors_[np.asarray(user_indices)] @ self.item_factors_.T

    def map_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Factor vectors for new item texts (e.g. an item typed into a what-if), on the cold-item scale."""
        return self.scale_ * (self.text_embeddings(texts) @ self.map_)

    def score_new_items(self, user_indices: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Scores (users x new items) of items that are not in the catalog, from their text alone."""
        return self.user_factors_[np.asarray(user_indices)] @ self.map_texts(texts).T

    def user_embeddings(self) -> np.ndarray:
        """Folded-in user factors (virtual users included)."""
        return self.user_factors_

    def item_embeddings(self) -> np.ndarray:
        """Item factors used for scoring (collaborative for warm items, text-mapped for cold ones)."""
        return self.item_factors_
