"""The Runs page's "Log to MLflow" section: a tracking URI, an experiment name and one button.

The logging itself is :func:`recaug.reporting.mlflow_export.log_saved_run`, the same code as ``--mlflow``.
"""

from __future__ import annotations

import streamlit as st

from recaug.reporting.mlflow_export import DEFAULT_EXPERIMENT, default_tracking_uri, log_saved_run
from recaug.reporting.runs import Run
from ui.errors import friendly_errors


def mlflow_section(run: Run) -> None:
    """Log ``run`` (parameters, metrics, verdicts, result files) to an MLflow tracking store on request."""
    with st.expander("Log to MLflow"):
        uri = st.text_input(
            "Tracking URI",
            value=default_tracking_uri(),
            key="runs_mlflow_uri",
            help="an MLflow server (http://127.0.0.1:5000) or a local store (sqlite:///path/mlflow.db)",
        )
        experiment = st.text_input("Experiment", value=DEFAULT_EXPERIMENT, key="runs_mlflow_experiment")
        if st.button("Log this run to MLflow", key="runs_mlflow_log"):
            with friendly_errors(f"log run {run.run_id} to MLflow"), st.spinner("Logging to MLflow..."):
                logged = log_saved_run(run, tracking_uri=uri.strip() or None, experiment=experiment.strip())
                where = logged.tracking_uri.replace("`", "")  # user text, shown literally in a code span
                st.success(f"Logged as MLflow run `{logged.run_id}` (experiment {logged.experiment_id}) in `{where}`.")
