"""The pages' long runs as stoppable jobs (``ui.jobs``): the augmentation, the comparison and the LLM estimate.

Each says what its steps are (the plan the time left is weighted by) and what a stop keeps: the methods finished
on the Augment page, the seeds finished in a comparison, nothing of an estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import streamlit as st

from recaug.core.progress import Cancelled, ProgressClock, ProgressFn, no_progress
from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, ExperimentResult, run_augmenters
from recaug.experiment.steps import augment_plan, comparison_clock
from ui.cached import cached_value, config_key, result_store
from ui.compare_controller import keep_outcome
from ui.escape import markdown_prose
from ui.jobs import run_blocking, start_job, stop_text, watch_job
from ui.reopen import keep_augmentation
from ui.session import sync_url
from ui.state import AUGMENT_RESULTS, AUGMENT_RUN_CONFIG, STOP_NOTE, augment_preview

AUGMENT, COMPARE, ESTIMATE = "augment", "compare", "estimate"


def _note_key(kind: str) -> str:
    """Session key of what the last stop of ``kind`` kept, shown next to the results until the next run."""
    return f"{STOP_NOTE}{kind}"


def start_augmentation(dataset: Dataset, config: dict[str, Any]) -> None:
    """Run the Augment page's methods in the background (cached by data and settings)."""
    experiment, key = augment_preview(dataset, config)
    seed = int(config["seed"])
    st.session_state.pop(_note_key(AUGMENT), None)
    start_job(
        AUGMENT,
        "Augmenting",
        lambda progress: cached_value(key, lambda: run_augmenters(dataset, experiment, seed, progress=progress)),
        clock=partial(ProgressClock, plan=augment_plan(experiment, dataset.fingerprint())),
        context=dict(config),
    )
    sync_url()


def finish_augmentation() -> None:
    """Watch the augmentation; when it ends, show its results (or the methods a stop kept); raise its error."""
    job = watch_job(AUGMENT)
    if job is None:
        return
    results, config = job.value, job.context
    if isinstance(job.error, Cancelled):
        results = job.error.partial
        kept = ", ".join(results or []) or "nothing"
        st.session_state[_note_key(AUGMENT)] = f"{stop_text(job)} Finished methods kept: {kept}."
        config = {**config, "augmenters": list(results or [])}
    elif job.error is not None:
        raise job.error
    if results:
        st.session_state[AUGMENT_RESULTS], st.session_state[AUGMENT_RUN_CONFIG] = results, dict(config)
        keep_augmentation(config, results)


def start_comparison(dataset: Dataset, config: ExperimentConfig, run: Any) -> None:
    """Run the comparison in the background; ``run(progress)`` trains, evaluates and records it."""
    st.session_state.pop(_note_key(COMPARE), None)
    clock = partial(comparison_clock, config, dataset.fingerprint())
    start_job(COMPARE, "Training and evaluating", run, clock=clock, context=config)  # context: for a refresh
    sync_url()  # the job's id in the URL now: this script run watches it until it ends


def finish_comparison(dataset: Dataset, record: Callable[[ExperimentConfig, ProgressFn], Any]) -> Any:
    """Watch the comparison; when it ends keep its outcome on the page and return it (None after a stop). After a
    stop the finished seeds are shown as a result of those seeds (``record(partial_config)`` finds it in the
    cache); an error is raised for the page to show."""
    job = watch_job(COMPARE)
    if job is None:
        return None
    if isinstance(job.error, Cancelled):
        partial = job.error.partial
        if isinstance(partial, ExperimentResult):
            seeds = partial.config.seeds
            st.session_state[_note_key(COMPARE)] = (
                f"**Stopped after seed {seeds[-1]} by you** ({len(seeds)} seed(s) finished; last step reported: "
                f"{markdown_prose(job.message, 300)}). The results below are those seeds only and are not saved "
                "as a run; press **Run comparison** to run every seed."
            )
            result_store().put(config_key(dataset, partial.config.to_dict()), partial)
            keep_outcome(record(partial.config, no_progress))  # the kept seeds (from the cache: nothing recomputed)
            return None
        st.session_state[_note_key(COMPARE)] = f"{stop_text(job)} No seed had finished; nothing is kept."
        return None
    if job.error is not None:
        raise job.error
    keep_outcome(job.value)
    stopping = job.value.result.stopping
    if stopping is not None and list(stopping.seeds_run) != list(job.value.result.config.seeds):
        st.rerun()  # seeds were added: the form above, drawn before the run ended, must name the seeds that ran
    return job.value


def estimate(dataset: Dataset, experiment: ExperimentConfig) -> list[str] | None:
    """The LLM cost estimate's lines, run as a stoppable job (None when stopped)."""
    from recaug.augment.llm.llm_estimate import estimate_llm_variants

    st.session_state.pop(_note_key(ESTIMATE), None)
    job = run_blocking(ESTIMATE, "Estimating the LLM cost", lambda progress: estimate_llm_variants(dataset, experiment))
    if isinstance(job.error, Cancelled):
        st.session_state[_note_key(ESTIMATE)] = stop_text(job)
        return None
    if job.error is not None:
        raise job.error
    return [e.line() for e in job.value]


def show_stop_note(kind: str) -> None:
    """What the last stop of ``kind`` kept, until its next run."""
    if note := st.session_state.get(_note_key(kind)):
        st.info(note, icon=":material/stop_circle:")
