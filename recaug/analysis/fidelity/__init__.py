"""Real-vs-synthetic fidelity of the interaction graph, SDMetrics-style.

Synthetic interactions are judged as *edges of a graph*, not as ID columns: do they keep the degree and popularity
distributions, how do they move the graph's concentration and long tail, can a classifier tell them from real
edges, do generated (virtual) users copy real ones, and how often did the LLM fail.

Every metric declares its range and whether higher is better, and is computed independently: one failing metric
becomes an error row (``error`` filled, ``value`` NaN), never an exception, so a report page always renders.

* ``stats``: distances between count distributions, concentration, closest records, the detection classifier;
* ``inputs``: what every metric reads about one method's rows (:class:`FidelityInputs`);
* ``metrics``: the metrics table (:data:`METRICS`) and its evaluation;
* ``report``: the tidy report per method, for an experiment's split, and its wide view.
"""

from recaug.analysis.fidelity.inputs import FidelityInputs
from recaug.analysis.fidelity.metrics import (
    METRIC_LABELS,
    METRICS,
    FidelityMetric,
    evaluate_metrics,
    metric_label,
    metric_names,
)
from recaug.analysis.fidelity.report import (
    experiment_log,
    fidelity_for_experiment,
    fidelity_report,
    fidelity_wide,
    result_split,
    text_vectors,
)
from recaug.analysis.fidelity.stats import (
    FIDELITY_COLUMNS,
    REAL_METHOD,
    NotApplicable,
    detection_auc,
    gini,
    head_items,
    jaccard_distance_to_closest,
    js_distance,
    ks_statistic,
    log2_bin_edges,
)

__all__ = [
    "FIDELITY_COLUMNS",
    "METRICS",
    "METRIC_LABELS",
    "REAL_METHOD",
    "FidelityInputs",
    "FidelityMetric",
    "NotApplicable",
    "detection_auc",
    "evaluate_metrics",
    "experiment_log",
    "fidelity_for_experiment",
    "fidelity_report",
    "fidelity_wide",
    "gini",
    "head_items",
    "jaccard_distance_to_closest",
    "js_distance",
    "ks_statistic",
    "log2_bin_edges",
    "metric_label",
    "metric_names",
    "result_split",
    "text_vectors",
]
