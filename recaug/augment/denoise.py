"""Denoising synthetic edges (LLMRec-style pruning), available on every augmenter through ``denoise=``.

A BPR model fitted on the training split scores each synthetic edge by its plausibility, i.e. one minus its
average BPR loss against every catalog item as the negative (:func:`recaug.augment.ranking.plausibility`).
The ``fraction`` least plausible edges are dropped. Virtual users have no learned factor, so they are folded in
as the mean factor of the items they were given: their edges are judged by how coherent they are together.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recaug.augment.graph.train_model import fit_train_model
from recaug.augment.ranking import plausibility
from recaug.core.progress import ProgressFn, sub_progress
from recaug.data.dataset import TrainingData
from recaug.data.schema import ITEM, USER


def edge_plausibility(
    train: TrainingData, rows: pd.DataFrame, *, seed: int = 0, progress: ProgressFn | None = None
) -> np.ndarray:
    """Plausibility in [0, 1] of each (user_id, item_id) row under a train-only BPR (virtual users folded in)."""
    model = fit_train_model(train, model="bpr", seed=seed, progress=progress)
    user_factors, item_factors = model.user_embeddings(), model.item_embeddings()
    users = pd.Index(pd.unique(rows[USER]))
    user_pos = users.get_indexer(rows[USER])
    item_idx = train.item_ids.get_indexer(rows[ITEM])
    real_idx = train.user_ids.get_indexer(users)
    vectors = np.zeros((len(users), item_factors.shape[1]), dtype=np.float32)
    vectors[real_idx >= 0] = user_factors[real_idx[real_idx >= 0]]
    for pos in np.flatnonzero(real_idx < 0):  # fold-in: mean factor of the virtual user's items
        vectors[pos] = item_factors[item_idx[user_pos == pos]].mean(axis=0)
    scores = vectors @ item_factors.T
    out = np.empty(len(rows), dtype=np.float32)
    for start in range(0, len(rows), 4096):
        chunk = slice(start, start + 4096)
        out[chunk] = plausibility(scores[user_pos[chunk]], item_idx[chunk, None])[:, 0]
    return out


def drop_implausible(
    train: TrainingData, rows: pd.DataFrame, fraction: float, *, seed: int = 0, progress: ProgressFn | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Drop the ``fraction`` least plausible rows (order of the kept rows unchanged) and report what was dropped."""
    n_drop = round(fraction * len(rows))
    if len(rows) == 0 or n_drop == 0:
        return rows, {"denoise_scored": len(rows), "denoise_dropped": 0}
    score = edge_plausibility(train, rows, seed=seed, progress=sub_progress(progress, 0.0, 0.9))
    worst = np.lexsort((-np.arange(len(rows)), score))[:n_drop]  # ties: drop the later (lower-ranked) row
    keep = np.ones(len(rows), dtype=bool)
    keep[worst] = False
    info = {
        "denoise_scored": len(rows),
        "denoise_dropped": n_drop,
        "denoise_plausibility_kept": round(float(score[keep].mean()), 4) if keep.any() else None,
        "denoise_plausibility_dropped": round(float(score[~keep].mean()), 4),
    }
    return rows[keep].reset_index(drop=True), info
