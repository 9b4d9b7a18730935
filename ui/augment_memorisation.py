"""The Augment page's memorisation check: has the server model read this public benchmark's catalogue?

A gain from a large server model on MovieLens can be recall of the benchmark, not skill that carries over to the
user's own data. Where a server model meets a public benchmark, :func:`memorisation_panel` offers the title-completion
check (:func:`recaug.text.llm.memorisation.check_memorisation`) as a stoppable job with progress, shows its hit rate
next to chance with its interval and cost, and :func:`keep_with_augmentation` stores it in the info of every LLM
method of the augmentation made with that server (on screen and in the kept copy, ``ui.augment_store``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import streamlit as st

from recaug.core.progress import Cancelled
from recaug.data.dataset import Dataset
from recaug.text.llm.memorisation import check_memorisation, memorisation_note
from ui.augment_store import update_info
from ui.errors import friendly_errors
from ui.jobs import is_running, run_blocking, stop_text
from ui.state import AUGMENT_DIGEST, AUGMENT_RESULTS, dataset_fingerprint, recalled, remember, results_config

MEMORISATION = "memorisation"  # the job kind
CHECKS = "llm_memorisation_checks"  # session: {data + connection digest: check record}
INFO_KEY = "memorisation"  # where an LLM method's info keeps the check
# The augmenter parameters that say which model answers (what the check measures); the rest (batch, cap) do not.
CONNECTION = ("backend", "model", "base_url", "key_from_url", "timeout")


def server_connection(config: dict[str, Any]) -> dict[str, Any] | None:
    """The server settings of ``config``'s first LLM method on the ``openai`` backend; None when none uses one."""
    for name in config["augmenters"]:
        params = (config.get("augmenter_params") or {}).get(name, {})
        if name.startswith("llm-") and params.get("backend") == "openai":
            return {key: params[key] for key in CONNECTION if key in params}
    return None


def _check_key(fingerprint: str, connection: dict[str, Any]) -> str:
    """One check per data set and server (the URL may carry a key: only its digest names the check)."""
    payload = json.dumps([fingerprint, {k: v for k, v in connection.items() if k != "timeout"}], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def memorisation_panel(dataset: Dataset, config: dict[str, Any]) -> None:
    """Where a server model meets a public benchmark: the check's button, its progress and its last result."""
    connection = server_connection(config)
    if connection is None or memorisation_note(dataset.name, "openai") is None:
        return
    key = _check_key(dataset_fingerprint(), connection)
    st.markdown("**Has the server model memorised this benchmark?** (title completion)")
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    n_titles = remember(
        "llm_memorisation_titles",
        int(
            left.number_input(
                "Titles to test",
                5,
                400,
                int(recalled("llm_memorisation_titles", 40)),
                step=10,
                key="llm_memorisation_titles",
                help="Each title costs two scoring calls (with its first words, and without, to calibrate); 40 "
                "titles tell a model near chance from one that knows the catalogue, 5 are a quick look.",
            )
        ),
    )
    if right.button(
        "Check title memorisation",
        key="llm_memorisation_now",
        disabled=is_running(MEMORISATION),
        help="The model sees the first half of a catalogue title and must pick its true ending among 5.",
    ):
        with friendly_errors("run the memorisation check"):
            record = _run_check(dataset, connection, n_titles)
            if record is not None:
                st.session_state.setdefault(CHECKS, {})[key] = record
                keep_with_augmentation()
    record = st.session_state.get(CHECKS, {}).get(key) or _kept_check(key)
    if record is not None:
        _show_check(record)


def _run_check(dataset: Dataset, connection: dict[str, Any], n_titles: int) -> dict[str, Any] | None:
    """The check as a stoppable job on this page; its record, or None when stopped (the stop is said)."""
    titles = dataset.items["title"].tolist()
    job = run_blocking(
        MEMORISATION,
        "Checking title memorisation",
        lambda progress: check_memorisation(titles, n_titles=n_titles, progress=progress, **connection),
    )
    if isinstance(job.error, Cancelled):
        st.info(stop_text(job), icon=":material/stop_circle:")
        return None
    if job.error is not None:
        raise job.error
    return dict(job.value.record())


def _show_check(record: dict[str, Any]) -> None:
    """Hit rate next to chance with its interval, the verdict, and what the check cost."""
    hit, chance = float(record["hit_rate"]), float(record["chance"])
    cols = st.columns(3)
    cols[0].metric(
        "Titles completed right",
        f"{hit:.0%}",
        f"{hit - chance:+.0%} vs chance {chance:.0%}",
        delta_color="inverse",  # above chance is the warning sign here
        help=f"95% interval {record['ci_low']:.0%}–{record['ci_high']:.0%} over {record['n_titles']} titles",
    )
    cols[1].metric("Interval (95%)", f"{record['ci_low']:.0%} – {record['ci_high']:.0%}")
    cols[2].metric(
        "Cost",
        f"{float(record['seconds']):.1f} s",
        help=f"{record['calls']} scoring calls, {record['requests']} requests to the server",
    )
    (st.warning if record["memorised"] else st.success)(record["line"], icon=":material/menu_book:")


def _kept_check(key: str) -> dict[str, Any] | None:
    """The check kept with the shown augmentation, when it was made with this server (after a refresh)."""
    connection = server_connection(results_config())
    if connection is None or _check_key(dataset_fingerprint(), connection) != key:
        return None
    results = st.session_state.get(AUGMENT_RESULTS) or {}
    return next((r.info[INFO_KEY] for r in results.values() if isinstance(r.info.get(INFO_KEY), dict)), None)


def keep_with_augmentation() -> None:
    """Store the check made with the shown augmentation's server in each of its LLM methods' info, on screen and
    in the kept copy. Called after a check and after a run, so either order stores it."""
    connection = server_connection(results_config())
    results = st.session_state.get(AUGMENT_RESULTS) or {}
    if connection is None or not results:
        return
    record = st.session_state.get(CHECKS, {}).get(_check_key(dataset_fingerprint(), connection))
    if record is None:
        return
    changed = False
    for name, result in results.items():
        if name.startswith("llm-") and result.info.get(INFO_KEY) != record:
            result.info[INFO_KEY] = record
            changed = True
    digest = st.session_state.get(AUGMENT_DIGEST)
    if changed and digest:
        update_info(digest, results)
