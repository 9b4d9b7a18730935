"""Fidelity building blocks: distances between count distributions, concentration, closest records, detection."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recaug.data.schema import REAL

FIDELITY_COLUMNS = ["method", "metric", "value", "range", "higher_is_better", "error", "group", "description"]
REAL_METHOD = REAL
HEAD_SHARE = 0.2  # the most popular 20% of items (by real training popularity) are the "head"
LOG_METHOD_COLUMNS = ("augmenter", "origin", "method")
CLEANING_DROP = "dropped after cleaning"  # the LLM augmenters' reason for rows lost to budget/dedup, not to the LLM
_HALLUCINATION_PATTERN = r"hallucinat|unmapped|not in (?:the )?catalog|unknown item|no match"


class NotApplicable(Exception):
    """A metric does not apply to this method (e.g. no virtual users): the row is left out."""


# --- pure statistics (tested against hand-built cases) -------------------------------------------------------------


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic: the largest gap between the two empirical CDFs (0 = identical)."""
    from scipy.stats import ks_2samp

    if len(a) == 0 or len(b) == 0:
        raise ValueError("KS needs two non-empty samples")
    return float(ks_2samp(np.asarray(a, float), np.asarray(b, float)).statistic)


def log2_bin_edges(max_value: float) -> np.ndarray:
    """Bin edges 0, 1, 2, 4, 8, ... past ``max_value``: equal widths on a log scale, with zero in its own bin."""
    top = max(math.ceil(math.log2(max(max_value, 1) + 1)), 1)
    return np.concatenate([[0.0], 2.0 ** np.arange(top + 1)])


def js_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Jensen–Shannon distance (base 2, so in [0, 1]) between log2-binned histograms of two count samples."""
    from scipy.spatial.distance import jensenshannon

    if len(a) == 0 or len(b) == 0:
        raise ValueError("JS distance needs two non-empty samples")
    edges = log2_bin_edges(max(np.max(a), np.max(b)))
    p = np.histogram(a, bins=edges)[0].astype(float)
    q = np.histogram(b, bins=edges)[0].astype(float)
    if np.array_equal(p / p.sum(), q / q.sum()):
        return 0.0  # scipy can return 1e-8 from rounding; identical histograms are exactly 0
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2))


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = perfectly even, → 1 = all mass on one entry)."""
    x = np.sort(np.asarray(values, dtype=float))
    if len(x) == 0 or x.sum() <= 0:
        return 0.0
    n = len(x)
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * x).sum()) / (n * x.sum()) - (n + 1) / n)


def head_items(popularity: np.ndarray, share: float = HEAD_SHARE) -> np.ndarray:
    """Boolean mask of the most popular ``share`` of items (stable on ties), fixed from the real data."""
    n_head = math.ceil(share * len(popularity))
    order = np.argsort(-np.asarray(popularity), kind="stable")
    mask = np.zeros(len(popularity), dtype=bool)
    mask[order[:n_head]] = True
    return mask


def jaccard_distance_to_closest(
    query: sp.csr_matrix, reference: sp.csr_matrix, *, exclude_self: bool = False, chunk: int = 1024
) -> np.ndarray:
    """For each query row (an item set), 1 - max Jaccard similarity to any reference row.

    ``exclude_self`` ignores the diagonal (query is reference), for the real-to-real baseline.
    """
    query = (query > 0).astype(np.float32).tocsr()
    reference = (reference > 0).astype(np.float32).tocsr()
    ref_sizes = np.asarray(reference.sum(axis=1)).ravel()
    out = np.ones(query.shape[0], dtype=float)
    for start in range(0, query.shape[0], chunk):
        block = query[start : start + chunk]
        inter = np.asarray((block @ reference.T).todense())
        sizes = np.asarray(block.sum(axis=1)).ravel()
        union = sizes[:, None] + ref_sizes[None, :] - inter
        sim = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        if exclude_self:
            rows = np.arange(block.shape[0])
            sim[rows, start + rows] = -1.0
        out[start : start + chunk] = 1.0 - sim.max(axis=1) if sim.shape[1] else 1.0
    return out


def detection_auc(real_features: np.ndarray, synthetic_features: np.ndarray, *, seed: int = 0, folds: int = 5) -> float:
    """Cross-validated ROC AUC of a seeded gradient-boosting classifier separating real from synthetic rows.

    0.5 means the classifier cannot tell them apart; 1.0 means it always can.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    n_min = min(len(real_features), len(synthetic_features))
    if n_min < 10:
        raise ValueError(
            f"needs at least 10 real and 10 synthetic rows, got {len(real_features)} and {len(synthetic_features)}"
        )
    x = np.vstack([real_features, synthetic_features]).astype(np.float64)
    y = np.concatenate([np.zeros(len(real_features)), np.ones(len(synthetic_features))])
    classifier = HistGradientBoostingClassifier(
        max_iter=100, learning_rate=0.1, max_leaf_nodes=15, early_stopping=False, random_state=seed
    )
    cv = StratifiedKFold(n_splits=min(folds, n_min), shuffle=True, random_state=seed)
    # One OpenMP thread: on a few shared cores HGB's threads spin-wait on each other (~50 s instead of <1 s).
    with threadpool_limits(1):
        return float(np.mean(cross_val_score(classifier, x, y, cv=cv, scoring="roc_auc")))


# --- per-method inputs with shared, lazily computed graph views --------------------------------------------------


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
