"""Real-vs-synthetic fidelity of the interaction graph, SDMetrics-style.

Synthetic interactions are judged as *edges of a graph*, not as ID columns: do
they keep the degree and popularity distributions, how do they move the graph's
concentration and long tail, can a classifier tell them from real edges, do
generated (virtual) users copy real ones, and how often did the LLM fail.

Every metric declares its range and whether higher is better, and is computed
independently: one failing metric becomes an error row (``error`` filled,
``value`` NaN), never an exception, so a report page always renders.

The table is tidy, one row per ``method`` x ``metric``; ``method == "real"``
rows describe the real training data alone (the "before" of the graph
statistics and the real-to-real baseline of the distance to closest record).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recaug.core.errors import RecaugInputError
from recaug.core.progress import ProgressFn, no_progress
from recaug.data.dataset import Dataset, TrainingData
from recaug.data.schema import ITEM, ORIGIN, REAL, USER
from recaug.data.splits import Split

logger = logging.getLogger(__name__)

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


@dataclass
class FidelityInputs:
    """One method's synthetic rows next to the real training data; derived views are computed once."""

    method: str
    train: TrainingData
    synthetic_matrix: sp.csr_matrix  # (user rows incl. virtual users, items), binary
    llm_log: pd.DataFrame | None = None
    item_vectors: np.ndarray | None = None  # L2-normalised text embeddings aligned with item index
    seed: int = 0
    max_detection_rows: int = 5000
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_rows(
        cls, dataset: Dataset, train: TrainingData, method: str, rows: pd.DataFrame, **options: object
    ) -> FidelityInputs:
        """Index one method's synthetic rows (virtual users get rows after the real ones)."""
        indexed, n_rows = dataset.index_synthetic(rows[[USER, ITEM]])
        return cls(method=method, train=train, synthetic_matrix=dataset.matrix(indexed, n_users=n_rows), **options)  # type: ignore[arg-type]

    @property
    def n_rows(self) -> int:
        """User rows including virtual users."""
        return self.synthetic_matrix.shape[0]

    @cached_property
    def real_matrix(self) -> sp.csr_matrix:
        return self.train.matrix

    @cached_property
    def augmented_matrix(self) -> sp.csr_matrix:
        real = sp.vstack([self.real_matrix, sp.csr_matrix((self.n_rows - self.train.n_users, self.train.n_items))])
        mat = (real.tocsr() + self.synthetic_matrix).tocsr()
        mat.data[:] = 1.0
        return mat

    @cached_property
    def real_user_degree(self) -> np.ndarray:
        return self.train.user_degree()

    @cached_property
    def real_item_popularity(self) -> np.ndarray:
        return self.train.item_popularity()

    @cached_property
    def augmented_user_degree(self) -> np.ndarray:
        return np.asarray(self.augmented_matrix.sum(axis=1)).ravel()

    @cached_property
    def augmented_item_popularity(self) -> np.ndarray:
        return np.asarray(self.augmented_matrix.sum(axis=0)).ravel()

    @cached_property
    def virtual_rows(self) -> np.ndarray:
        """Row indices of generated users that have at least one synthetic interaction."""
        degree = np.asarray(self.synthetic_matrix.sum(axis=1)).ravel()
        rows = np.arange(self.train.n_users, self.n_rows)
        return rows[degree[rows] > 0]

    @cached_property
    def latent_factors(self) -> tuple[np.ndarray, np.ndarray]:
        """Seeded truncated-SVD user and item factors of the augmented graph (L2-normalised)."""
        from sklearn.decomposition import TruncatedSVD

        mat = self.augmented_matrix
        n_comp = max(1, min(32, min(mat.shape) - 1))
        svd = TruncatedSVD(n_components=n_comp, random_state=self.seed)
        users = svd.fit_transform(mat)
        items = svd.components_.T * svd.singular_values_
        return _normalise(users), _normalise(items)

    def edge_features(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Per-edge features a detector may use: log degree, log popularity, latent and text similarity."""
        user_f, item_f = self.latent_factors
        degree = self.augmented_user_degree[users]
        columns = [
            np.log1p(degree),
            np.log1p(self.augmented_item_popularity[items]),
            np.einsum("ij,ij->i", user_f[users], item_f[items]),
        ]
        if self.item_vectors is not None:
            # Leave-one-out profile: the user's other items, so real edges do not see themselves.
            sums = np.asarray(self.augmented_matrix @ self.item_vectors)
            own = self.item_vectors[items]
            profile = (sums[users] - own) / np.maximum(degree - 1, 1)[:, None]
            norms = np.linalg.norm(profile, axis=1)
            sim = np.einsum("ij,ij->i", profile, own) / np.maximum(norms, 1e-8)
            columns.append(np.where(degree > 1, sim, 0.0))
        return np.column_stack(columns)


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


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
    if x.synthetic_matrix.nnz == 0:
        raise NotApplicable("no synthetic rows")
    syn = x.synthetic_matrix[: x.train.n_users].tocoo()
    in_train = np.asarray(x.real_matrix[syn.row, syn.col]).ravel() > 0 if syn.nnz else np.zeros(0, bool)
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


def _split_logs(
    llm_log: pd.DataFrame | Mapping[str, pd.DataFrame] | None, methods: Sequence[str]
) -> dict[str, pd.DataFrame]:
    if llm_log is None:
        return {}
    if isinstance(llm_log, Mapping):
        return dict(llm_log)
    column = next((c for c in LOG_METHOD_COLUMNS if c in llm_log.columns), None)
    if column is not None:
        return {str(name): part for name, part in llm_log.groupby(column, sort=False)}
    if len(methods) == 1:
        return {methods[0]: llm_log}
    raise RecaugInputError(
        "the LLM log does not say which augmenter wrote each row",
        fix=f"add an 'augmenter' column, or pass a dict method -> log; methods: {list(methods)}",
    )


def text_vectors(train: TrainingData) -> np.ndarray | None:
    """Item text embeddings when the catalog has real text (not just ids), else None."""
    if not (train.items["text"].astype(str) != train.items[ITEM].astype(str)).any():
        return None
    from recaug.text.encoder import encode_texts

    return encode_texts(train.items["text"].tolist())


def fidelity_report(
    dataset: Dataset,
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    llm_log: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None,
    item_vectors: np.ndarray | None = None,
    text_features: bool = True,
    metrics: Sequence[FidelityMetric] = METRICS,
    seed: int = 0,
    max_detection_rows: int = 5000,
    progress: ProgressFn | None = None,
) -> pd.DataFrame:
    """Fidelity table for every method (``origin``) in ``synthetic``, plus ``method == "real"`` reference rows.

    ``train`` is the real training split (rows with user_idx/item_idx, e.g. ``split.train``) and
    ``synthetic`` the rows of ONE seed (canonical columns user_id, item_id, origin). ``llm_log`` is one
    log with an ``augmenter``/``origin`` column, or a dict method -> log. ``item_vectors`` (aligned with the
    item index) are encoded from the catalog text when omitted and ``text_features`` is on.
    Returns columns :data:`FIDELITY_COLUMNS`; raises only RecaugInputError for unusable input.
    """
    report = progress or no_progress
    if "seed" in synthetic.columns and synthetic["seed"].nunique() > 1:
        raise RecaugInputError(
            "synthetic rows come from several seeds; fidelity compares one seed's rows with that seed's training split",
            fix="filter synthetic to one seed first",
        )
    if len(synthetic) and ORIGIN not in synthetic.columns:
        raise RecaugInputError("synthetic rows need an 'origin' column naming the method", column=ORIGIN)
    training = dataset.training_data(train)
    if item_vectors is None and text_features:
        try:
            item_vectors = text_vectors(training)
        except Exception:  # no encoder: the detector simply goes without the text feature
            logger.warning("text embeddings unavailable; fidelity runs without text features", exc_info=True)
    methods = [str(m) for m in pd.unique(synthetic[ORIGIN])] if len(synthetic) else []
    logs = _split_logs(llm_log, methods)
    rows: list[dict[str, object]] = []
    todo = [REAL_METHOD, *methods]
    for step, method in enumerate(todo):
        report(step / len(todo), f"fidelity: {method}")
        part = synthetic[synthetic[ORIGIN] == method] if method != REAL_METHOD else synthetic.iloc[:0]
        inputs = FidelityInputs.from_rows(
            dataset,
            training,
            method,
            part,
            llm_log=logs.get(method),
            item_vectors=item_vectors,
            seed=seed,
            max_detection_rows=max_detection_rows,
        )
        # Single-threaded BLAS/OpenMP: these matrices are small, and on shared cores threads mostly wait.
        with threadpool_limits(1):
            rows.extend(evaluate_metrics(inputs, metrics))
    report(1.0, "fidelity done")
    return pd.DataFrame(rows, columns=FIDELITY_COLUMNS)


def experiment_log(result: object) -> pd.DataFrame | None:
    """The LLM provenance logs of an ExperimentResult (``logs``: one frame per augmenter and seed) as one frame."""
    logs = [log for log in getattr(result, "logs", None) or [] if log is not None and len(log)]
    return pd.concat(logs, ignore_index=True) if logs else None


def result_split(result: object, dataset: Dataset, seed: int) -> Split:
    """The split ``result`` carries for ``seed``; a result reloaded from disk has none, so it is rebuilt from its
    config's split spec (protocol and parameters), which gives the identical split."""
    splits = getattr(result, "splits", None) or {}
    if seed in splits:
        return splits[seed]
    return result.config.split_spec().build(dataset.interactions, seed)  # type: ignore[attr-defined]


def fidelity_for_experiment(
    dataset: Dataset,
    result: object,
    *,
    seed: int | None = None,
    llm_log: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None,
    progress: ProgressFn | None = None,
) -> pd.DataFrame:
    """Fidelity of an :class:`~recaug.experiment.ExperimentResult` for one seed (default: its first).

    The seed's training split is the one the experiment built and carried (protocol parameters included), so the
    synthetic rows are compared with exactly the data their augmenter and the models saw.
    """
    config = result.config  # type: ignore[attr-defined]
    seed = config.seeds[0] if seed is None else seed
    split = result_split(result, dataset, seed)
    synthetic = result.synthetic  # type: ignore[attr-defined]
    if "seed" in synthetic.columns:
        synthetic = synthetic[synthetic["seed"] == seed]
    if llm_log is None:
        llm_log = experiment_log(result)
    if isinstance(llm_log, pd.DataFrame) and "seed" in llm_log.columns:
        llm_log = llm_log[llm_log["seed"] == seed]
    return fidelity_report(dataset, split.train, synthetic, llm_log=llm_log, seed=seed, progress=progress)


def fidelity_wide(table: pd.DataFrame) -> pd.DataFrame:
    """(group, metric) x method table of values, in report order (errors and inapplicable metrics are NaN)."""
    wide = table.pivot(index=["group", "metric"], columns="method", values="value")
    order = {name: position for position, name in enumerate(metric_names())}
    pairs = table[["group", "metric"]].drop_duplicates()
    pairs = pairs.iloc[np.argsort([order.get(m, len(order)) for m in pairs["metric"]], kind="stable")]
    rows = pd.MultiIndex.from_frame(pairs)
    methods = list(dict.fromkeys(table["method"]))
    return wide.reindex(index=rows, columns=methods)
