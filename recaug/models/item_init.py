"""Item factors that start from text instead of noise (LLMInit, EMNLP'25 industry track).

Given item vectors from a text encoder (``item_init`` in ``fit``: one row per item, NaN rows for items without
text), the factors start as the top principal components of those vectors, scaled to the same overall standard
deviation as the random start they replace. Items that share words start close together, so an item with few or
no training interactions (a cold item) keeps a position that is meaningful relative to its warm neighbours.

Why PCA: it is the linear map to ``factors`` dimensions that keeps the most of the vectors' variance; it is
deterministic (signs fixed so the largest loading of each component is positive) and needs no training.
Items without a vector keep their random start, so the same seed's random stream is drawn either way.
"""

from __future__ import annotations

import numpy as np


def projected_item_factors(vectors: np.ndarray, factors: int, std: float) -> tuple[np.ndarray, np.ndarray]:
    """(``factors``-dim rows for the items with a vector, bool mask of those items).

    Components beyond the vectors' rank (``factors`` > text dimension or > items) are zero, so those dimensions
    keep the random start the caller drew for every item.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    present = np.isfinite(vectors).all(axis=1)
    known = vectors[present]
    out = np.zeros((len(known), factors), dtype=np.float32)
    if len(known) < 2:
        return out, np.zeros(len(vectors), dtype=bool)
    centred = known - known.mean(axis=0)
    left, singular, right = np.linalg.svd(centred, full_matrices=False)
    keep = min(factors, len(singular))
    components = left[:, :keep] * singular[:keep]
    signs = np.sign(right[np.arange(keep), np.abs(right[:keep]).argmax(axis=1)])
    components *= np.where(signs == 0, 1.0, signs)
    spread = components.std()
    if spread > 0:
        components *= std / spread
    out[:, :keep] = components.astype(np.float32)
    return out, present


def start_item_factors(random_start: np.ndarray, item_init: np.ndarray | None, std: float) -> np.ndarray:
    """``random_start`` (items x factors) with the rows of items that have a vector replaced by their projection.

    Dimensions the projection cannot fill (see :func:`projected_item_factors`) keep their random values.
    """
    if item_init is None:
        return random_start
    projected, present = projected_item_factors(item_init, random_start.shape[1], std)
    if not present.any():
        return random_start
    start = random_start.copy()
    filled = np.any(projected != 0, axis=0)  # the components that exist
    rows = np.flatnonzero(present)
    start[np.ix_(rows, np.flatnonzero(filled))] = projected[:, filled]
    return start
