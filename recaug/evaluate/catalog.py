"""What every metric name means, its direction and its kind, for tables, the UI and input validation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from recaug.core.errors import RecaugInputError


@dataclass(frozen=True)
class MetricInfo:
    """One metric: ``higher_is_better`` is None where neither direction is better in itself (popularity)."""

    name: str
    label: str
    family: str  # "accuracy" or "beyond"
    per_user: bool  # False: one number per list set (no per-user bootstrap)
    higher_is_better: bool | None
    description: str


METRIC_INFO: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        MetricInfo("recall", "Recall", "accuracy", True, True, "share of the user's test items found in the top k"),
        MetricInfo("ndcg", "NDCG", "accuracy", True, True, "rank-discounted hits, normalised by the ideal ranking"),
        MetricInfo("precision", "Precision", "accuracy", True, True, "share of the top k that are test items"),
        MetricInfo("hit", "Hit rate", "accuracy", True, True, "1 if any test item is in the top k"),
        MetricInfo("mrr", "MRR", "accuracy", True, True, "1 / rank of the first test item in the top k"),
        MetricInfo("map", "MAP", "accuracy", True, True, "mean precision at each hit, over min(|test|, k)"),
        MetricInfo(
            "avg_pop",
            "Avg. popularity",
            "beyond",
            True,
            None,
            "mean training interaction count of the recommended items (popularity bias)",
        ),
        MetricInfo(
            "novelty", "Novelty", "beyond", True, True, "mean self-information -log2 p(item) of the recommended items"
        ),
        MetricInfo("tail", "Tail %", "beyond", True, True, "share of recommended items outside the 20% most popular"),
        MetricInfo("coverage", "Item coverage", "beyond", False, True, "share of the catalog recommended to anyone"),
        MetricInfo(
            "gini",
            "Gini index",
            "beyond",
            False,
            False,
            "inequality of how often items are recommended (0 even, 1 one item)",
        ),
    )
}
ALL_METRICS = tuple(METRIC_INFO)
EXPERIMENT_KS = (10, 20, 50)  # what a comparison reports by default


def check_metrics(names: Iterable[str]) -> list[str]:
    """The names, in order, or a RecaugInputError naming the unknown ones."""
    names = list(names)
    unknown = [name for name in names if name not in METRIC_INFO]
    if unknown:
        raise RecaugInputError(f"unknown metric(s) {', '.join(unknown)}", fix=f"choose from {', '.join(ALL_METRICS)}")
    return names
