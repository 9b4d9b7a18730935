"""Reopen a saved run into the dashboard, and restore a session after a browser refresh.

A reopened run brings back its data (from the data store, by fingerprint), the Augment and Compare settings,
and its results: the Compare page shows the saved tables (significance and fidelity as saved; per-user
views that need the fitted models ask for a re-run).
"""

from __future__ import annotations

import json
import logging

import pandas as pd
import streamlit as st

from recaug.core.errors import RecaugInputError
from recaug.core.variants import split_variant
from recaug.data.builtin import BUILTIN
from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentResult
from recaug.reporting.runs import RecordedComparison, Run, datasets_dir, load_run, run_dataset, run_split
from ui.cached import builtin_dataset, config_key, result_store
from ui.state import (
    AUG_PARAM,
    AUGMENT_CONFIG,
    AUGMENT_RESULTS,
    AUGMENT_RUN_CONFIG,
    DATA_PARAM,
    DATASET,
    EXPERIMENT,
    EXPERIMENT_KEY,
    FORM_MEMORY,
    LAST_RUN,
    PREPARE_REPORT,
    RUN_PARAM,
    augment_preview,
    dataset_fingerprint,
    set_dataset,
)

logger = logging.getLogger("recaug.ui")


def reopen_run(run_id: str) -> Dataset:
    """Make run ``run_id`` the dashboard's data, settings and results; RecaugInputError when it cannot."""
    run = load_run(run_id)
    dataset = _data_of(run)
    config = run.config
    set_dataset(dataset, None)
    methods = list(dict.fromkeys(split_variant(name)[0] for name in config.augmenters))
    budgets = sorted({str(split_variant(name)[1]) for name in config.augmenters if split_variant(name)[1] is not None})
    st.session_state[AUGMENT_CONFIG] = {
        "augmenters": methods,
        "budget": config.budget,
        "target": config.target,
        "seed": int(config.seeds[0]) if config.seeds else 0,
        "protocol": config.protocol,
        "protocol_params": dict(config.protocol_params),
        "augmenter_params": dict(config.augmenter_params),
    }
    memory = st.session_state.setdefault(FORM_MEMORY, {})
    memory.update(cmp_models=list(config.models), cmp_seeds=len(config.seeds), cmp_sweep=budgets)
    split = run_split(run)
    result = ExperimentResult(
        config=config,
        results=run.results,
        synthetic=run.synthetic,
        split=split if split is not None else pd.DataFrame(columns=["user_id", "item_id", "part", "seed"]),
        augment_info=list(run.meta.get("augment_info", []) or []),
        user_metrics={},
        timings=dict(run.meta.get("timings", {}) or {}),
        fingerprint=run.fingerprint,
    )
    key = config_key(dataset, config.to_dict())
    recorded = RecordedComparison(
        fidelity=run.fidelity if run.fidelity is not None else pd.DataFrame(), written=[], run=run
    )
    if run.significance is not None:
        result_store().put("sig:" + key, run.significance)
    result_store().put("recorded:" + key, recorded)
    st.session_state[EXPERIMENT], st.session_state[EXPERIMENT_KEY] = result, key
    st.session_state[LAST_RUN] = recorded
    return dataset


def _data_of(run: Run) -> Dataset:
    """The run's data from the data store; for runs saved before it existed, the loaded or built-in data when
    its fingerprint matches."""
    try:
        return run_dataset(run)
    except RecaugInputError:
        current = st.session_state.get(DATASET)
        if current is not None and dataset_fingerprint() == run.fingerprint:
            return current
        name = run.config.data
        if name in BUILTIN:
            builtin, _ = builtin_dataset(name)
            if builtin.fingerprint() == run.fingerprint:
                return builtin
        raise


def restore_from_url() -> bool:
    """After a browser refresh: reopen the run or reload the data the URL names, then the augmentation.

    False when no data was restored (the caller loads the default).
    """
    run_id, fingerprint = st.query_params.get(RUN_PARAM), st.query_params.get(DATA_PARAM)
    restored = False
    if run_id:
        try:
            reopen_run(run_id)
            restored = True
        except RecaugInputError:
            logger.warning("could not restore run %s from the URL", run_id, exc_info=True)
    if not restored and fingerprint:
        from recaug.data.store import load_saved_dataset

        try:
            dataset = load_saved_dataset(fingerprint, datasets_dir())
        except RecaugInputError:
            logger.warning("could not restore data %s from the URL", fingerprint, exc_info=True)
            return False
        st.session_state[DATASET], st.session_state[PREPARE_REPORT] = dataset, None
        restored = True
    if restored:
        _restore_augmentation(st.query_params.get(AUG_PARAM))
    return restored


def _restore_augmentation(text: str | None) -> None:
    """The Augment page's last results: settings from the URL, rows from the server's cache when it still has them."""
    if not text:
        return
    try:
        config = json.loads(text)
        _, key = augment_preview(st.session_state[DATASET], config)
    except (ValueError, KeyError, TypeError):
        logger.warning("ignoring an unreadable augmentation in the URL", exc_info=True)
        return
    st.session_state[AUGMENT_CONFIG] = config
    results = result_store().get(key)
    if results is not None:
        st.session_state[AUGMENT_RESULTS], st.session_state[AUGMENT_RUN_CONFIG] = results, dict(config)
