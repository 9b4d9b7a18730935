"""Session-state keys in one place and what reads them; ``ui.session`` loads and restores the dataset itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from recaug.augment.item_text import TEXT_DEFAULT, default_methods
from recaug.data.dataset import Dataset
from recaug.data.splits import Split, SplitSpec
from recaug.experiment import ExperimentConfig
from ui.cached import cached_value, config_key

DATASET = "dataset"
PREPARE_REPORT = "prepare_report"
AUGMENT_CONFIG = "augment_config"
AUGMENT_RESULTS = "augment_results"
AUGMENT_RUN_CONFIG = "augment_run_config"  # the settings AUGMENT_RESULTS were made with
DEFAULT_PROTOCOL = "random-811"
EXPERIMENT = "experiment"
EXPERIMENT_KEY = "experiment_key"
LAST_RUN = "last_run"
STOP_NOTE = "stop_note:"  # + kind: what the last stop of a long run kept, shown until its next run (ui.long_runs)


FINGERPRINT = "dataset_fingerprint"
AUGMENT_DIGEST = "augment_digest"  # where the Augment page's results are kept on disk (ui.augment_store)
# URL query parameters: what a browser refresh restores (data by fingerprint, the saved run, the augmentation, the
# long runs still going or not yet shown, by job id).
DATA_PARAM, RUN_PARAM, AUG_PARAM, JOBS_PARAM = "data", "run", "aug", "jobs"


def dataset_fingerprint() -> str:
    """The current dataset's fingerprint, computed once per dataset (it hashes every row)."""
    dataset = st.session_state[DATASET]
    cached = st.session_state.get(FINGERPRINT)
    if cached is None or cached[0] is not dataset:
        cached = (dataset, dataset.fingerprint())
        st.session_state[FINGERPRINT] = cached
    return cached[1]


def current_split(dataset: Dataset, seed: int, protocol: str = DEFAULT_PROTOCOL, params: dict | None = None) -> Split:
    """The split of ``seed`` under ``protocol`` and its parameters, built through the one ``SplitSpec`` (cached)."""
    spec = SplitSpec.of(protocol, params)
    return cached_value(
        f"split:{dataset.fingerprint()}:{spec.key()}:{seed}", lambda: spec.build(dataset.interactions, seed)
    )


def set_dataset(dataset: Dataset, report: Any) -> None:
    """Replace the dataset and drop results (and notes on stopped runs) that belonged to the old one. Methods
    still at the old data's default move to the new data's (similarity only where items have text)."""
    previous = st.session_state.get(DATASET)
    settings = st.session_state.get(AUGMENT_CONFIG)
    if settings is not None and (previous is None or settings["augmenters"] == default_methods(previous)):
        settings["augmenters"] = default_methods(dataset)
    st.session_state[DATASET] = dataset
    st.session_state[PREPARE_REPORT] = report
    for key in (AUGMENT_RESULTS, AUGMENT_RUN_CONFIG, AUGMENT_DIGEST, EXPERIMENT, EXPERIMENT_KEY, LAST_RUN):
        st.session_state.pop(key, None)
    for key in [k for k in st.session_state if str(k).startswith(STOP_NOTE)]:
        del st.session_state[key]


def augment_preview(dataset: Dataset, config: dict[str, Any]) -> tuple[ExperimentConfig, str]:
    """The experiment behind an Augment-page preview of ``config``, and its cache key (also used to restore it)."""
    experiment = ExperimentConfig(
        data=dataset.name,
        augmenters=config["augmenters"],
        budget=config["budget"],
        target=config["target"],
        augmenter_params=config["augmenter_params"],
        seeds=[config["seed"]],
        protocol=config["protocol"],
        protocol_params=dict(config.get("protocol_params") or {}),
    )
    return experiment, "augment:" + config_key(dataset, experiment.to_dict())


def augment_config(dataset: Dataset | None = None) -> dict[str, Any]:
    """The augmentation settings chosen on the Augment page (defaults: +10% for light users, with similarity where
    ``dataset``'s items have text, else item-kNN expansion: :func:`recaug.augment.item_text.default_methods`)."""
    return st.session_state.setdefault(AUGMENT_CONFIG, _default_settings(dataset))


def _default_settings(dataset: Dataset | None) -> dict[str, Any]:
    return {
        "augmenters": default_methods(dataset) if dataset is not None else [TEXT_DEFAULT],
        "budget": 0.1,
        "target": "light-users",
        "seed": 0,
        "protocol": DEFAULT_PROTOCOL,
        "augmenter_params": {},
    }


def results_config() -> dict[str, Any]:
    """The settings the shown augmentation results were made with (the form may have changed since)."""
    return st.session_state.get(AUGMENT_RUN_CONFIG) or augment_config(st.session_state.get(DATASET))


def results_key(dataset: Dataset, kind: str) -> str:
    """The one cache key of anything derived from the shown augmentation results (fidelity, embeddings, ...).

    It comes from the data fingerprint and the full settings the results were made with (methods, budget, target,
    every parameter, seed, split), so a change of target or parameter is a new key, never the old table.
    """
    results = st.session_state.get(AUGMENT_RESULTS) or {}
    rows = {name: len(result.rows) for name, result in results.items()}  # settings restored without their rows differ
    return f"{kind}:{rows}:" + config_key(dataset, results_config())


def results_split(dataset: Dataset) -> tuple[Split, int, str]:
    """(split, seed, protocol) of the shown augmentation results: what Embeddings, Fidelity and What-if show."""
    config = results_config()
    seed, protocol = int(config["seed"]), str(config.get("protocol", DEFAULT_PROTOCOL))
    spec = SplitSpec.of(protocol, config.get("protocol_params"))
    experiment = st.session_state.get(EXPERIMENT)
    carried = getattr(experiment, "splits", {}) if experiment is not None else {}
    if seed in carried and experiment.config.split_spec() == spec:
        return carried[seed], seed, protocol  # the split object the comparison's models were trained on
    return current_split(dataset, seed, protocol, config.get("protocol_params")), seed, protocol


FORM_MEMORY = "form_memory"


def recalled(key: str, default: Any) -> Any:
    """What the widget ``key`` showed when the user last saw it, else ``default``.

    Streamlit drops a widget's state when its page is left, so settings would silently reset on return.
    """
    return st.session_state.setdefault(FORM_MEMORY, {}).get(key, default)


def remember(key: str, value: Any) -> Any:
    """Store a widget's value for ``recalled``; returns the value."""
    st.session_state.setdefault(FORM_MEMORY, {})[key] = value
    return value


def remembered_choice(
    widget: Callable[..., Any],
    label: str,
    options: list[Any],
    *,
    key: str,
    default: Any,
    on_pick: Callable[[Any], None] | None = None,
    **kwargs: Any,
) -> Any:
    """A radio/selectbox (``widget``) that starts at the remembered option and remembers the new one.

    Remembered in the change's callback too (``on_pick`` gets the new option there): a callback runs before the
    page's script, so a sidebar click right after the change, which cuts that script short, cannot lose it."""

    def picked() -> None:
        value = remember(key, st.session_state[key])
        if on_pick is not None:
            on_pick(value)

    start = recalled(key, default)
    index = options.index(start if start in options else default)
    return remember(key, widget(label, options, index=index, key=key, on_change=picked, **kwargs))


def keep_augment_setting(field: str, value: Any) -> None:
    """Write ``value`` into the Augment settings' ``field`` at once (what the other pages read): from a widget's
    callback, for the same reason as :func:`remembered_choice`'s."""
    if AUGMENT_CONFIG in st.session_state:
        st.session_state[AUGMENT_CONFIG][field] = value


def no_augment_results_note(what: str) -> str:
    """Why ``what`` (this page) is empty although a comparison ran: it shows the Augment page's results, and a
    comparison keeps its synthetic rows inside its run (walk 12: after a 1M comparison both pages said "run a
    method first", which read as the comparison having made nothing)."""
    ran = "A comparison ran, but it keeps its synthetic rows inside its run (download them on Compare as "
    ran += "augmented.csv). " if st.session_state.get(EXPERIMENT) is not None else ""
    return (
        f"{ran}{what} shows what the Augment page made: press **Run augmentation** there (its methods and settings "
        "are the ones Compare uses)."
    )
