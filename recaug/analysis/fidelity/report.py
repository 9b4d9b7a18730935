"""Fidelity of an experiment: the tidy report per method, for one seed's split, and its wide view."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from recaug.analysis.fidelity.inputs import FidelityInputs
from recaug.analysis.fidelity.metrics import METRICS, FidelityMetric, evaluate_metrics, metric_names
from recaug.analysis.fidelity.stats import FIDELITY_COLUMNS, LOG_METHOD_COLUMNS, REAL_METHOD
from recaug.core.errors import RecaugInputError
from recaug.core.progress import ProgressFn, no_progress
from recaug.data.dataset import Dataset, TrainingData
from recaug.data.schema import ITEM, ORIGIN
from recaug.data.splits import Split

logger = logging.getLogger(__name__)


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
