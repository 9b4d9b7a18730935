"""The fidelity metrics table: each metric declares its range and direction; a failure is an error row."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.analysis.fidelity.inputs import FidelityInputs
from recaug.analysis.fidelity.stats import (
    _HALLUCINATION_PATTERN,
    CLEANING_DROP,
    REAL_METHOD,
    NotApplicable,
    detection_auc,
    gini,
    head_items,
    jaccard_distance_to_closest,
    js_distance,
    ks_statistic,
)

logger = logging.getLogger(__name__)

# --- the metrics ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FidelityMetric:
    """A named metric with its declared range and direction (None: descriptive, neither better)."""

    name: str
    group: str
    low: float
    high: float
    higher_is_better: bool | None
    description: str
    compute: Callable[[FidelityInputs], float]
    on_real: bool = False  # also reported for the real data alone (method "real")

    @property
    def range(self) -> str:
        high = "∞)" if math.isinf(self.high) else f"{self.high:g}]"
        return f"[{self.low:g}, {high}"


def _ks_users(x: FidelityInputs) -> float:
    return ks_statistic(x.real_user_degree, x.augmented_user_degree)


def _js_users(x: FidelityInputs) -> float:
    return js_distance(x.real_user_degree, x.augmented_user_degree)


def _ks_items(x: FidelityInputs) -> float:
    return ks_statistic(x.real_item_popularity, x.augmented_item_popularity)


def _js_items(x: FidelityInputs) -> float:
    return js_distance(x.real_item_popularity, x.augmented_item_popularity)


def _density(x: FidelityInputs) -> float:
    mat = x.augmented_matrix
    return mat.nnz / max(mat.shape[0] * mat.shape[1], 1)


def _gini(x: FidelityInputs) -> float:
    return gini(x.augmented_item_popularity)


def _long_tail_share(x: FidelityInputs) -> float:
    pop = x.augmented_item_popularity
    tail = ~head_items(x.real_item_popularity)
    return float(pop[tail].sum() / max(pop.sum(), 1))


def _items_without(x: FidelityInputs) -> float:
    return float((x.augmented_item_popularity == 0).sum())


def _synthetic_share(x: FidelityInputs) -> float:
    return x.synthetic_matrix.nnz / max(x.real_matrix.nnz, 1)


def _sample_synthetic(x: FidelityInputs, rng: np.random.Generator, real_users_only: bool) -> sp.coo_matrix:
    synthetic = (x.synthetic_matrix[: x.train.n_users] if real_users_only else x.synthetic_matrix).tocoo()
    n = min(synthetic.nnz, x.max_detection_rows)
    pick = np.sort(rng.choice(synthetic.nnz, size=n, replace=False)) if synthetic.nnz > n else np.arange(synthetic.nnz)
    return sp.coo_matrix((synthetic.data[pick], (synthetic.row[pick], synthetic.col[pick])), shape=synthetic.shape)


def _detection(x: FidelityInputs) -> float:
    rng = np.random.default_rng(x.seed)
    synthetic = _sample_synthetic(x, rng, real_users_only=False)
    real = x.real_matrix.tocoo()
    pick_r = rng.choice(real.nnz, size=min(synthetic.nnz, real.nnz), replace=False)
    real_f = x.edge_features(real.row[pick_r], real.col[pick_r])
    synth_f = x.edge_features(synthetic.row, synthetic.col)
    return detection_auc(real_f, synth_f, seed=x.seed)


def _detection_matched(x: FidelityInputs) -> float:
    """Detection among the same users: each synthetic edge is paired with a real edge of its user.

    This removes *who* was targeted (light users have low degree, which alone gives them away) and
    asks only whether the chosen items look like the user's real ones; user degree is not a feature.
    """
    rng = np.random.default_rng(x.seed)
    synthetic = _sample_synthetic(x, rng, real_users_only=True)
    real = x.real_matrix
    users, items, partners = [], [], []
    # Pair without replacement: a duplicated real edge would be memorised across CV folds and fake a signal.
    for user in np.unique(synthetic.row):
        own = real.indices[real.indptr[user] : real.indptr[user + 1]]
        chosen = synthetic.col[synthetic.row == user]
        n = min(len(own), len(chosen))
        users.append(np.full(n, user))
        items.append(chosen[:n])
        partners.append(rng.permutation(own)[:n])
    if not users or sum(len(u) for u in users) == 0:
        raise NotApplicable("no synthetic edges on real users")
    user_idx = np.concatenate(users)
    real_f = x.edge_features(user_idx, np.concatenate(partners))[:, 1:]
    synth_f = x.edge_features(user_idx, np.concatenate(items))[:, 1:]
    return detection_auc(real_f, synth_f, seed=x.seed)


def _virtual_distances(x: FidelityInputs) -> np.ndarray:
    """Distance to closest real record per generated user (real users: to the closest other real user)."""
    if "distances" not in x.extra:
        x.extra["distances"] = _compute_distances(x)
    return x.extra["distances"]  # type: ignore[return-value]


def _compute_distances(x: FidelityInputs) -> np.ndarray:
    if x.method == REAL_METHOD:
        rng = np.random.default_rng(x.seed)
        users = np.flatnonzero(x.real_user_degree > 0)
        users = np.sort(rng.choice(users, size=min(2000, len(users)), replace=False))
        return jaccard_distance_to_closest(x.real_matrix[users], x.real_matrix[users], exclude_self=True)
    if len(x.virtual_rows) == 0:
        raise NotApplicable("no generated users")
    return jaccard_distance_to_closest(x.synthetic_matrix[x.virtual_rows], x.real_matrix)


def _dcr(x: FidelityInputs) -> float:
    return float(np.median(_virtual_distances(x)))


def _copy_rate(x: FidelityInputs) -> float:
    if x.method == REAL_METHOD:
        raise NotApplicable("real users are the reference")
    return float(np.mean(_virtual_distances(x) <= 1e-9))


def _novelty(x: FidelityInputs) -> float:
    """Share of synthetic edges not already in training; left out when it is 1.

    Every recaug augmenter drops the pairs already in training before it returns (``Augmenter._clean``), so for
    its rows this is 1.0 by construction and a row of 1.0s told the reader nothing (walk 11). It is shown only for
    rows from elsewhere (a DataFrame passed to :func:`fidelity_report`) that do repeat training edges.
    """
    if x.synthetic_matrix.nnz == 0:
        raise NotApplicable("no synthetic rows")
    syn = x.synthetic_matrix[: x.train.n_users].tocoo()
    in_train = np.asarray(x.real_matrix[syn.row, syn.col]).ravel() > 0 if syn.nnz else np.zeros(0, bool)
    if not in_train.any():
        raise NotApplicable("every synthetic edge is new: augmenters drop pairs already in training")
    return 1.0 - in_train.sum() / max(x.synthetic_matrix.nnz, 1)


def _item_coverage(x: FidelityInputs) -> float:
    if x.synthetic_matrix.nnz == 0:
        raise NotApplicable("no synthetic rows")
    return float((np.asarray(x.synthetic_matrix.sum(axis=0)).ravel() > 0).mean())


def _log_rows(x: FidelityInputs) -> pd.DataFrame:
    log = x.llm_log
    if log is None or len(log) == 0:
        raise NotApplicable("no LLM log")
    return log


def _llm_rejection(x: FidelityInputs) -> float:
    """Share of LLM calls whose answer was rejected; rows dropped later by budget/dedup cleaning do not count."""
    log = _log_rows(x)
    reason = log["reason"].fillna("").astype(str) if "reason" in log.columns else pd.Series("", index=log.index)
    counted = ~reason.str.startswith(CLEANING_DROP)
    if "accepted" in log.columns:
        rejected = ~log["accepted"].fillna(False).astype(bool)
    elif "decision" in log.columns:
        rejected = log["decision"].astype(str).str.lower().str.startswith("reject")
    else:
        raise ValueError("the LLM log has no 'accepted' or 'decision' column")
    return float((rejected & counted).sum() / max(int(counted.sum()), 1))


def _llm_hallucination(x: FidelityInputs) -> float:
    log = _log_rows(x)
    if "hallucinated" in log.columns:
        return float(log["hallucinated"].astype(bool).mean())
    if "reason" in log.columns:
        reason = log["reason"].fillna("").astype(str).str.lower()
        return float(reason.str.contains(_HALLUCINATION_PATTERN, regex=True).mean())
    raise ValueError("the LLM log has no 'hallucinated' or 'reason' column")


INF = float("inf")
METRICS: tuple[FidelityMetric, ...] = (
    FidelityMetric(
        "user_degree_ks",
        "distribution",
        0,
        1,
        False,
        "KS statistic, user degree: real vs real+synthetic (0 = same distribution)",
        _ks_users,
    ),
    FidelityMetric(
        "user_degree_js",
        "distribution",
        0,
        1,
        False,
        "Jensen–Shannon distance of log-binned user degree histograms",
        _js_users,
    ),
    FidelityMetric(
        "item_popularity_ks",
        "distribution",
        0,
        1,
        False,
        "KS statistic, item popularity: real vs real+synthetic",
        _ks_items,
    ),
    FidelityMetric(
        "item_popularity_js",
        "distribution",
        0,
        1,
        False,
        "Jensen–Shannon distance of log-binned item popularity histograms",
        _js_items,
    ),
    FidelityMetric("density", "graph", 0, 1, None, "interactions / (user rows × items)", _density, on_real=True),
    FidelityMetric(
        "gini_item_popularity",
        "graph",
        0,
        1,
        False,
        "Gini of item popularity (lower = interactions spread more evenly)",
        _gini,
        on_real=True,
    ),
    FidelityMetric(
        "long_tail_share",
        "graph",
        0,
        1,
        True,
        "share of interactions on long-tail items (outside the real top-20% by popularity)",
        _long_tail_share,
        on_real=True,
    ),
    FidelityMetric(
        "items_without_interactions",
        "graph",
        0,
        INF,
        False,
        "catalog items with no training interaction",
        _items_without,
        on_real=True,
    ),
    FidelityMetric(
        "synthetic_share",
        "graph",
        0,
        INF,
        None,
        "synthetic interactions / real training interactions",
        _synthetic_share,
    ),
    FidelityMetric(
        "detection_auc",
        "detection",
        0,
        1,
        False,
        "cross-validated ROC AUC of a classifier telling synthetic from real edges (0.5 = "
        "indistinguishable) on degree, popularity, latent and text similarity",
        _detection,
    ),
    FidelityMetric(
        "detection_auc_same_users",
        "detection",
        0,
        1,
        False,
        "detection AUC when each synthetic edge is paired with a real edge of the same user (targeting removed: "
        "are the chosen items like the user's real ones?)",
        _detection_matched,
    ),
    FidelityMetric(
        "distance_to_closest_record",
        "privacy",
        0,
        1,
        True,
        "median Jaccard distance of each generated user's items to the closest real user "
        "(for 'real': real user to the closest other real user, the baseline)",
        _dcr,
        on_real=True,
    ),
    FidelityMetric(
        "virtual_copy_rate",
        "privacy",
        0,
        1,
        False,
        "share of generated users whose items exactly copy a real user's training items",
        _copy_rate,
    ),
    FidelityMetric("novelty", "novelty", 0, 1, True, "share of synthetic edges not already in training", _novelty),
    FidelityMetric(
        "synthetic_item_coverage",
        "novelty",
        0,
        1,
        None,
        "share of catalog items that receive at least one synthetic edge",
        _item_coverage,
    ),
    FidelityMetric(
        "llm_rejection_rate", "llm", 0, 1, False, "share of LLM calls whose answer was rejected", _llm_rejection
    ),
    FidelityMetric(
        "llm_hallucination_rate",
        "llm",
        0,
        1,
        False,
        "share of LLM calls that named an item not in the catalog",
        _llm_hallucination,
    ),
)


def metric_names() -> list[str]:
    """Names of the built-in fidelity metrics, in report order."""
    return [m.name for m in METRICS]


# What a reader sees for each metric id (the ids stay in CSVs, reports and MLflow, where scripts read them).
METRIC_LABELS = {
    "user_degree_ks": "User activity: KS distance",
    "user_degree_js": "User activity: JS distance",
    "item_popularity_ks": "Item popularity: KS distance",
    "item_popularity_js": "Item popularity: JS distance",
    "density": "Density",
    "gini_item_popularity": "Popularity concentration (Gini)",
    "long_tail_share": "Long-tail share",
    "items_without_interactions": "Items without interactions",
    "synthetic_share": "Synthetic rows per real row",
    "detection_auc": "Detectable as synthetic (AUC)",
    "detection_auc_same_users": "Detectable among the same users (AUC)",
    "distance_to_closest_record": "Distance to the closest real user",
    "virtual_copy_rate": "Generated users copying a real one",
    "novelty": "Synthetic edges new to training",
    "synthetic_item_coverage": "Catalog items given synthetic rows",
    "llm_rejection_rate": "LLM answers rejected",
    "llm_hallucination_rate": "LLM answers naming unknown items",
}


def metric_label(name: str) -> str:
    """The readable name of a fidelity metric id; a metric recaug does not know (a plug-in's) shows its id."""
    return METRIC_LABELS.get(name, name.replace("_", " "))


# --- the report -------------------------------------------------------------------------------------------------


def _row(metric: FidelityMetric, method: str, value: float, error: str = "") -> dict[str, object]:
    return {
        "method": method,
        "metric": metric.name,
        "value": value,
        "range": metric.range,
        "higher_is_better": metric.higher_is_better,
        "error": error,
        "group": metric.group,
        "description": metric.description,
    }


def evaluate_metrics(inputs: FidelityInputs, metrics: Sequence[FidelityMetric]) -> list[dict[str, object]]:
    """Compute each metric for one method; failures become error rows, inapplicable metrics are left out."""
    rows = []
    for metric in metrics:
        if inputs.method == REAL_METHOD and not metric.on_real:
            continue
        try:
            value = float(metric.compute(inputs))
        except NotApplicable:
            continue
        except Exception as err:  # one broken metric must not break the report
            logger.warning("fidelity metric %s failed for %s", metric.name, inputs.method, exc_info=True)
            rows.append(_row(metric, inputs.method, float("nan"), f"{type(err).__name__}: {err}"))
            continue
        rows.append(_row(metric, inputs.method, value))
    return rows
