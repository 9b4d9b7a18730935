"""The session's dataset, and the URL that lets a browser refresh find the session's work again.

A new session (a refresh, a reopened tab) starts empty; its URL names the data (by fingerprint), the saved run,
the Augment page's results (by digest) and the long runs not yet shown (by job id), and :func:`current_dataset`
restores them through ``ui.reopen``.
"""

from __future__ import annotations

import streamlit as st

from recaug.data.dataset import Dataset
from ui.cached import builtin_dataset
from ui.jobs import open_job_ids
from ui.reopen import restore_from_url
from ui.state import (
    AUG_PARAM,
    AUGMENT_DIGEST,
    DATA_PARAM,
    DATASET,
    JOBS_PARAM,
    LAST_RUN,
    PREPARE_REPORT,
    RUN_PARAM,
    dataset_fingerprint,
)


def current_dataset() -> Dataset:
    """The loaded dataset; MovieLens-100k is ready by default so no upload is needed.

    A new session first restores what its URL names: a saved run (``?run=``: data, settings and results), a
    dataset by fingerprint (``?data=``) and the Augment page's results (``?aug=``).
    """
    if DATASET not in st.session_state and not restore_from_url():
        dataset, report = builtin_dataset("ml-100k")
        st.session_state[DATASET] = dataset
        st.session_state[PREPARE_REPORT] = report
    sync_url()
    return st.session_state[DATASET]


def sync_url() -> None:
    """Name the current data, saved run and augmentation in the URL, so a browser refresh can restore them.

    Called when a page asks for the dataset and again after every page has run (``app.py``), so results made
    during this run are in the URL too.
    """
    if DATASET not in st.session_state:
        return
    wanted = {DATA_PARAM: dataset_fingerprint()}
    run = getattr(st.session_state.get(LAST_RUN), "run", None)
    # A run made on other data (the session moved on to another data set) must not be reopened by a refresh: it
    # would bring back that data and hide the augmentation made since on this one.
    if run is not None and getattr(run, "fingerprint", None) == wanted[DATA_PARAM]:
        wanted[RUN_PARAM] = run.run_id
    if st.session_state.get(AUGMENT_DIGEST):
        wanted[AUG_PARAM] = st.session_state[AUGMENT_DIGEST]
    if jobs := open_job_ids():
        wanted[JOBS_PARAM] = ",".join(sorted(jobs))
    for key in (DATA_PARAM, RUN_PARAM, AUG_PARAM, JOBS_PARAM):
        if key not in wanted and key in st.query_params:
            del st.query_params[key]
        elif key in wanted and st.query_params.get(key) != wanted[key]:
            st.query_params[key] = wanted[key]
