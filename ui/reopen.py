"""Reopen a saved run into the dashboard, and restore a session after a browser refresh.

A reopened run brings back its data (from the data store, by fingerprint), the Augment and Compare settings (the
form values too: an LLM call cap of 60 comes back as 60), its augmentation (the run store holds the synthetic rows,
so Augment, Embeddings, Fidelity and What-if show them again) and its results: the Compare page shows the saved
tables (significance and fidelity as saved; per-user views that need the fitted models ask for a re-run).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from recaug.augment.base import AugmentResult
from recaug.core.errors import RecaugInputError
from recaug.core.variants import budget_label, split_variant
from recaug.data.builtin import BUILTIN
from recaug.data.dataset import Dataset
from recaug.evaluate.design import DEFAULT_PRIMARY
from recaug.experiment import ExperimentConfig
from recaug.reporting.runs import RecordedComparison, Run, datasets_dir, load_run, run_dataset, run_result
from ui.augment_store import load_augmentation, save_augmentation
from ui.augment_view import remember_form
from ui.cached import builtin_dataset, config_key, result_store
from ui.compare_controller import primary_choices
from ui.jobs import attach_jobs
from ui.state import (
    AUG_PARAM,
    AUGMENT_CONFIG,
    AUGMENT_DIGEST,
    AUGMENT_RESULTS,
    AUGMENT_RUN_CONFIG,
    DATA_PARAM,
    DATASET,
    EXPERIMENT,
    EXPERIMENT_KEY,
    FORM_MEMORY,
    JOBS_PARAM,
    LAST_RUN,
    PREPARE_REPORT,
    RUN_PARAM,
    dataset_fingerprint,
    set_dataset,
)

logger = logging.getLogger("recaug.ui")


def reopen_run(run_id: str) -> Dataset:
    """Make run ``run_id`` the dashboard's data, settings, augmentation and results; RecaugInputError when it
    cannot."""
    run = load_run(run_id)
    dataset = _data_of(run)
    config = run.config
    set_dataset(dataset, None)
    settings = remember_settings(config)
    _show_augmentation(settings, augmentation_of(run, int(settings["seed"])), dataset.name)
    result = run_result(run)
    # The key the Compare form gives these settings: without what the run wrote about itself (seeds_run, stopped).
    key = config_key(dataset, replace(config, seeds_run=[], stopped="").to_dict())
    recorded = RecordedComparison(
        fidelity=run.fidelity if run.fidelity is not None else pd.DataFrame(), written=[], run=run
    )
    if run.significance is not None:
        result_store().put("sig:" + key, run.significance)
    result_store().put("recorded:" + key, recorded)
    st.session_state[EXPERIMENT], st.session_state[EXPERIMENT_KEY] = result, key
    st.session_state[LAST_RUN] = recorded
    return dataset


def remember_settings(config: ExperimentConfig) -> dict[str, Any]:
    """Put ``config``'s settings in the Augment and Compare forms (methods, budget, target, seed, split; models,
    seeds, budget sweep) and return the Augment page's part: what a reopened run or a re-attached comparison was
    made with, so the forms do not call its results stale."""
    methods = list(dict.fromkeys(split_variant(name)[0] for name in config.augmenters))
    # The sweep as the Compare form's options read it ("2%", "2000"), in budget order: a fraction (0.02) is no option
    # there, and a reopened sweep run crashed the page on every visit until another run was opened.
    swept = {budget for name in config.augmenters if (budget := split_variant(name)[1]) is not None}
    budgets = [budget_label(budget) for budget in sorted(swept, key=lambda b: (isinstance(b, int), b))]
    settings = {
        "augmenters": methods,
        "budget": config.budget,
        "target": config.target,
        "seed": int(config.seeds[0]) if config.seeds else 0,
        "protocol": config.protocol,
        "protocol_params": dict(config.protocol_params),
        "augmenter_params": dict(config.augmenter_params),
    }
    st.session_state[AUGMENT_CONFIG] = settings
    memory = st.session_state.setdefault(FORM_MEMORY, {})
    # The question and the seed plan too: without them a reopened seeds-until-decided (or --primary, or A/A) run
    # called its own results stale, and Run comparison would have rerun another design.
    offered = primary_choices()
    memory.update(
        cmp_models=list(config.models),
        cmp_seeds=len(config.seeds),
        cmp_sweep=budgets,
        cmp_primary=[row for row in config.primary if row in offered] or list(DEFAULT_PRIMARY),
        cmp_max_seeds=int(config.max_seeds or 0),
        cmp_aa_control=bool(config.aa_control),
    )
    return settings


def augmentation_of(run: Run, seed: int) -> dict[str, AugmentResult]:
    """Each variant's synthetic rows of ``seed`` as the Augment page shows them, from the run store's copy.

    The run store keeps rows, info and the LLM log; start vectors (``llm-init``) and learned artefacts are not
    kept, so such a variant comes back with its info and no vectors.
    """
    synthetic = run.synthetic
    if "seed" in synthetic.columns:
        synthetic = synthetic[pd.to_numeric(synthetic["seed"], errors="coerce") == seed].drop(columns="seed")
    infos = [info for info in run.meta.get("augment_info", []) or [] if isinstance(info, dict)]
    log = run.llm_log
    config = run.config
    results = {}
    params = config.augmenter_params
    for variant in config.augmenters:
        method = split_variant(variant)[0]
        info = next((i for i in infos if i.get("augmenter") == variant and i.get("seed") == seed), None)
        if info is None:
            continue  # the run has no record of this variant at this seed
        rows = synthetic[synthetic["origin"] == variant].reset_index(drop=True) if len(synthetic) else synthetic
        results[variant] = AugmentResult(
            rows=rows,
            info={k: v for k, v in info.items() if k != "seed"},
            params={"seed": seed, **params.get(method, {}), **params.get(variant, {})},
            log=_log_of(log, method, seed),
        )
    return results


def _log_of(log: pd.DataFrame | None, method: str, seed: int) -> pd.DataFrame | None:
    """The LLM log lines of one method and seed (None when the run has none)."""
    if log is None or "augmenter" not in log.columns:
        return None
    chosen = log[log["augmenter"] == method]
    if "seed" in chosen.columns:
        chosen = chosen[pd.to_numeric(chosen["seed"], errors="coerce") == seed].drop(columns="seed")
    return chosen.reset_index(drop=True) if len(chosen) else None


def _show_augmentation(settings: dict[str, Any], results: dict[str, AugmentResult], dataset_name: str) -> None:
    """Make ``results`` (made with ``settings``) the Augment page's, with the form showing those settings."""
    st.session_state[AUGMENT_CONFIG] = settings
    remember_form(settings, dataset_name)
    if results:
        st.session_state[AUGMENT_RESULTS], st.session_state[AUGMENT_RUN_CONFIG] = results, dict(settings)


def keep_augmentation(settings: dict[str, Any], results: dict[str, AugmentResult]) -> None:
    """After Run augmentation: keep the results on disk and name them in the URL, so a refresh shows them again."""
    try:
        st.session_state[AUGMENT_DIGEST] = save_augmentation(dataset_fingerprint(), settings, results)
    except OSError:  # a full or read-only disk costs the refresh, never the results on screen
        logger.warning("could not keep the augmentation for a browser refresh", exc_info=True)


def _data_of(run: Run) -> Dataset:
    """The run's data from the data store; for runs saved before it existed, the loaded or built-in data when
    its fingerprint matches."""
    try:
        return run_dataset(run)
    except RecaugInputError:
        current = st.session_state.get(DATASET)
        if current is not None and dataset_fingerprint() == run.fingerprint:
            return current
        builtin = _builtin_with(run.fingerprint, run.config.data)
        if builtin is None:
            raise
        return builtin


def _builtin_with(fingerprint: str, name: str = "ml-100k") -> Dataset | None:
    """The built-in data set ``name`` when it has ``fingerprint`` (built-in data is not copied to the data store)."""
    if name not in BUILTIN:
        return None
    builtin, _ = builtin_dataset(name)
    return builtin if builtin.fingerprint() == fingerprint else None


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
            dataset: Dataset | None = load_saved_dataset(fingerprint, datasets_dir())
        except RecaugInputError:
            dataset = _builtin_with(fingerprint)
            if dataset is None:
                logger.warning("could not restore data %s from the URL", fingerprint, exc_info=True)
                return False
        st.session_state[DATASET], st.session_state[PREPARE_REPORT] = dataset, None
        restored = True
    if restored:
        _restore_augmentation(st.query_params.get(AUG_PARAM))
        for job in attach_jobs(filter(None, st.query_params.get(JOBS_PARAM, "").split(","))):  # shown here
            # the forms as the run was started, so its outcome is not called stale when it arrives
            if isinstance(job.context, ExperimentConfig):  # a comparison
                _show_augmentation(remember_settings(job.context), {}, st.session_state[DATASET].name)
            elif isinstance(job.context, dict) and "augmenters" in job.context:  # an augmentation
                _show_augmentation(dict(job.context), {}, st.session_state[DATASET].name)
    return restored


def _restore_augmentation(digest: str | None) -> None:
    """The Augment page's last results, from the disk copy the URL names (the newer work when a run was reopened)."""
    if not digest:
        return
    try:
        fingerprint, settings, results = load_augmentation(digest)
    except KeyError:
        logger.warning("the augmentation %s named in the URL is no longer kept", digest)
        return
    if fingerprint != dataset_fingerprint():
        logger.warning("the augmentation %s named in the URL was made on other data", digest)
        return
    _show_augmentation(settings, results, st.session_state[DATASET].name)
    st.session_state[AUGMENT_DIGEST] = digest
