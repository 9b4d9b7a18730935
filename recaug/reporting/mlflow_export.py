"""Log a comparison to an MLflow tracking store: parameters, metrics, the primary verdicts, and the result files.

One MLflow run per comparison:

* **parameters**: every :class:`ExperimentConfig` field (lists and dicts as JSON; keys typed into URLs redacted);
* **metrics**: the mean over seeds of every metric@k on slice ``all`` per model and arm
  (``ndcg_at_10/bpr/similarity``), and the deltas the verdicts are about (``delta/ndcg_at_10/bpr/similarity``);
* **tags**: the verdict of each primary row (``verdict/ndcg_at_10/bpr/similarity = better``), the data name and
  fingerprint, and the recaug run id;
* **artifacts**: the result files of the comparison's folder (:data:`RESULT_FILES`: config.json, results.csv,
  significance.csv — the verdict table —, cost.csv, fidelity.csv, report.html), those it has.

It talks to the store through ``MlflowClient`` (no global "active run"), so the CLI and the dashboard can log
from any thread. The default store (:func:`default_tracking_uri`) is ``$MLFLOW_TRACKING_URI``, else
``sqlite:///<recaug home>/mlflow.db``, the same for the CLI and the dashboard whatever folder they run in. For a
local SQLite store whose experiment does not exist yet, the artifacts go to ``mlartifacts/`` next to the database
rather than MLflow's default ``./mlruns`` of the working folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.core.paths import recaug_home
from recaug.reporting.export import redact_secrets
from recaug.reporting.runs import Run

DEFAULT_EXPERIMENT = "recaug"
INSTALL = "pip install 'recaug[mlflow]'"
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. :]")  # MLflow keys allow letters, digits, _ - . space : and /
MAX_PARAM_CHARS = 6000
BATCH = 1000  # MLflow's limit of metrics per log_batch call
PARAM_BATCH = 100
RESULT_FILES = (
    "config.json",
    "results.csv",
    "significance.csv",
    "cost.csv",
    "fidelity.csv",
    "selection.csv",
    "report.html",
)


@dataclass(frozen=True)
class MlflowRun:
    """Where a comparison was logged."""

    run_id: str
    experiment_id: str
    tracking_uri: str


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI``, else a SQLite store in recaug's home folder (MLflow's own default format)."""
    import os

    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{recaug_home() / 'mlflow.db'}"


def _key_part(text: object) -> str:
    return _UNSAFE.sub("_", str(text))


def metric_key(metric: str, k: int, *parts: object) -> str:
    """``ndcg_at_10/bpr/similarity_10_``: a key MLflow accepts (its parts cleaned of ``/ @ %`` and the like)."""
    return "/".join([f"{_key_part(metric)}_at_{int(k)}", *(_key_part(p) for p in parts)])


def config_params(config: Mapping[str, Any]) -> dict[str, str]:
    """Config fields as MLflow parameters: text, JSON for lists/dicts, secrets redacted, at most 6000 characters."""
    params = {}
    for key, value in redact_secrets(dict(config)).items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        params[_key_part(key)] = text[:MAX_PARAM_CHARS]
    return params


def summary_metrics(results: pd.DataFrame, significance: pd.DataFrame | None) -> dict[str, float]:
    """Mean over seeds on slice ``all`` per model x variant x metric@k, and the deltas (with their intervals)."""
    metrics: dict[str, float] = {}
    rows = results[results["slice"] == "all"]
    means = rows.groupby(["model", "variant", "metric", "k"], sort=True)["value"].mean()
    for (model, variant, metric, k), value in means.items():
        metrics[metric_key(metric, k, model, variant)] = float(value)
    if significance is not None and len(significance):
        table = significance[significance["slice"] == "all"]
        for row in table.itertuples(index=False):
            for column in ("delta", "ci_low", "ci_high"):
                value = float(getattr(row, column))
                if value == value:  # NaN (too few seeds) is not a metric
                    name = "delta" if column == "delta" else f"delta_{column}"
                    metrics[f"{name}/{metric_key(row.metric, row.k, row.model, row.variant)}"] = value
    return metrics


def verdict_tags(significance: pd.DataFrame | None, primary: Sequence[str]) -> dict[str, str]:
    """``verdict/ndcg_at_10/bpr/similarity[/slice]`` -> the verdict of each primary row (the rows the table marks
    ``primary``; without that column, ``primary``'s metrics on slice ``all``). The slice is named unless ``all``."""
    if significance is None or not len(significance):
        return {}
    if "primary" in significance.columns:
        rows = significance[significance["primary"].astype(str).str.lower().isin(["true", "1", "1.0"])]
    else:
        wanted = {(m, int(k or 10)) for m, _, k in (str(p).partition("@") for p in primary)}
        rows = significance[significance["slice"] == "all"]
        rows = rows[[(m, int(k)) in wanted for m, k in zip(rows["metric"], rows["k"], strict=True)]]
    tags = {}
    for row in rows.itertuples(index=False):
        where = [] if row.slice == "all" else [row.slice]
        tags[f"verdict/{metric_key(row.metric, row.k, row.model, row.variant, *where)}"] = str(row.verdict)
    return tags


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _client(tracking_uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def _require_mlflow() -> None:
    import importlib.util

    if importlib.util.find_spec("mlflow") is None:
        raise RecaugInputError("MLflow is not installed", fix=f"run `{INSTALL}`")


def _experiment_id(client: Any, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    uri = str(client.tracking_uri)
    location = None
    if uri.startswith("sqlite:///"):
        location = (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts" / name).as_uri()
    return str(client.create_experiment(name, artifact_location=location))


def log_comparison(
    config: Mapping[str, Any],
    results: pd.DataFrame,
    significance: pd.DataFrame | None,
    *,
    folder: Path | None = None,
    tracking_uri: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> MlflowRun:
    """Log one comparison as one MLflow run (see the module docstring); returns where it went.

    ``folder``: where its result files are (an ``--out`` folder or a run-store folder); ``tracking_uri`` None:
    :func:`default_tracking_uri`.

    Raises RecaugInputError when MLflow is missing or the store refuses (unreachable server, a file store MLflow
    no longer accepts, a database it cannot open), with MLflow's own reason.
    """
    from datetime import UTC, datetime

    _require_mlflow()
    from mlflow.entities import Metric, Param
    from mlflow.exceptions import MlflowException

    try:
        client = _client(tracking_uri or default_tracking_uri())
        experiment_id = _experiment_id(client, experiment)
        all_tags = {**verdict_tags(significance, config.get("primary", [])), **(tags or {})}
        run = client.create_run(experiment_id, run_name=run_name, tags={"recaug.version": _version(), **all_tags})
        run_id = run.info.run_id
        now = int(datetime.now(tz=UTC).timestamp() * 1000)
        params = [Param(key, value) for key, value in config_params(config).items()]
        metrics = [Metric(key, value, now, 0) for key, value in summary_metrics(results, significance).items()]
        for chunk in _chunks(params, PARAM_BATCH):
            client.log_batch(run_id, params=chunk)
        for chunk in _chunks(metrics, BATCH):
            client.log_batch(run_id, metrics=chunk)
        files = [Path(folder) / name for name in RESULT_FILES] if folder is not None else []
        for path in files:
            if path.is_file():
                client.log_artifact(run_id, str(path))
        client.set_terminated(run_id)
    except MlflowException as err:
        raise RecaugInputError(
            f"MLflow refused the comparison: {str(err)[:400]}",
            fix="check the tracking URI (e.g. sqlite:///mlflow.db or http://127.0.0.1:5000)",
        ) from None
    return MlflowRun(run_id=run_id, experiment_id=experiment_id, tracking_uri=str(client.tracking_uri))


def _version() -> str:
    from recaug import __version__

    return __version__


def log_saved_run(run: Run, *, tracking_uri: str | None = None, experiment: str = DEFAULT_EXPERIMENT) -> MlflowRun:
    """Log a run from the run store (the dashboard's Runs page button); the MLflow run is named by its run id."""
    return log_comparison(
        run.meta.get("config", {}),
        run.results,
        run.significance,
        folder=run.path,
        tracking_uri=tracking_uri,
        experiment=experiment,
        run_name=run.run_id,
        tags=run_tags(run.meta.get("data_name", ""), run.fingerprint, run.run_id),
    )


def run_tags(data: str, fingerprint: str, run_id: str | None) -> dict[str, str]:
    """The tags that tie an MLflow run to its data and to recaug's run store."""
    return {"recaug.data": str(data), "recaug.fingerprint": str(fingerprint), "recaug.run_id": run_id or ""}
