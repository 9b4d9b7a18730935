"""What the Fidelity page's report is about: the data, split, seed and methods of the augmentation it measures, and
where that augmentation came from (the Augment page's last run, or a saved run reopened from the Runs page).

The page measures the Augment page's results, not the latest comparison: a comparison run afterwards with other
settings (another protocol, other methods) leaves them as they were, so without this the page silently described
an older augmentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from recaug.augment.options import describe_methods
from recaug.core.variants import budget_words, split_variant
from recaug.experiment import ExperimentConfig
from recaug.reporting.runs import Run
from ui.escape import markdown_code, markdown_text
from ui.state import AUGMENT_CONFIG, AUGMENT_DIGEST, AUGMENT_RESULTS, AUGMENT_RUN_CONFIG, EXPERIMENT, LAST_RUN

AUGMENT_PAGE = "the Augment page's last run"


@dataclass(frozen=True)
class FidelityContext:
    """The caption naming the report's augmentation, and warnings when it is not what the user last asked for.

    ``columns`` are the caption's facts as plain values (data, split, seed, methods, budget, target, source), for
    the CSV download: a file read later must say what it measured, as the page header does.
    """

    caption: str
    warnings: list[str] = field(default_factory=list)
    columns: dict[str, object] = field(default_factory=dict)


def _split_text(settings: dict[str, Any]) -> str:
    params = settings.get("protocol_params") or {}
    extra = f" ({', '.join(f'{k}={v}' for k, v in sorted(params.items()))})" if params else ""
    return f"{settings.get('protocol', '?')}{extra}"


def _methods_of(config: ExperimentConfig) -> list[str]:
    """A comparison's methods as the Augment page names them (budget-sweep variants folded into their method)."""
    return list(dict.fromkeys(split_variant(name)[0] for name in config.augmenters))


def same_augmentation(settings: dict[str, Any], config: ExperimentConfig) -> bool:
    """Whether Augment-page ``settings`` made the augmentation a comparison with ``config`` used (at one of its
    seeds): same split and parameters, methods, budget, target and method parameters."""
    return (
        str(settings.get("protocol")) == config.protocol
        and dict(settings.get("protocol_params") or {}) == dict(config.protocol_params)
        and list(settings.get("augmenters") or []) == _methods_of(config)
        and float(settings.get("budget", -1)) == float(config.budget)
        and settings.get("target") == config.target
        and dict(settings.get("augmenter_params") or {}) == dict(config.augmenter_params)
        and int(settings.get("seed", -1)) in [int(s) for s in config.seeds]
    )


def describe_context(
    data_name: str,
    settings: dict[str, Any],
    methods: list[str],
    *,
    form: dict[str, Any] | None = None,
    from_augment_page: bool = True,
    run_id: str | None = None,
    run_config: ExperimentConfig | None = None,
    comparison: ExperimentConfig | None = None,
    comparison_run_id: str | None = None,
) -> FidelityContext:
    """The caption and warnings for an augmentation made with ``settings`` (``methods``: the variants shown).

    ``form`` is what the Augment page's form holds now (a change there makes these results stale, as the Augment
    page says); ``run_id``/``run_config`` the saved run last opened or recorded, named as the source when the
    augmentation was not made on the Augment page and matches it; ``comparison`` the latest comparison, warned
    about when its augmentation is another one.
    """
    params = dict(settings.get("augmenter_params") or {})
    from_run = (
        not from_augment_page
        and run_id is not None
        and run_config is not None
        and same_augmentation(settings, run_config)
    )
    source = f"saved run {markdown_code(run_id)} (reopened from the Runs page)" if from_run else AUGMENT_PAGE
    columns: dict[str, object] = {
        "data": data_name,
        "split": _split_text(settings),
        "seed": settings.get("seed", ""),
        "methods": describe_methods(methods, params),
        "budget": settings.get("budget", ""),
        "target": settings.get("target", ""),
        "source": f"saved run {run_id}" if from_run else AUGMENT_PAGE,
    }
    caption = (
        f"This report is about: data **{markdown_text(data_name)}** · split **{markdown_text(columns['split'])}**"
        f" · seed **{markdown_text(settings.get('seed', '?'))}** · methods **{markdown_text(columns['methods'])}**"
        f" · budget {budget_words(settings.get('budget', 0.0))}, target {markdown_text(settings.get('target', '?'))}"
        f" · from {source}."
    )
    warnings = []
    if form is not None and form != settings:
        now = markdown_text(", ".join(form.get("augmenters") or []) or "none")
        warnings.append(
            "The settings on the Augment page changed since this augmentation was made (now: split "
            f"{markdown_text(_split_text(form))}, methods {now}); this page still measures the previous run. "
            "Press **Run augmentation** on the Augment page to refresh."
        )
    if comparison is not None and not same_augmentation(settings, comparison):
        named = f"run {markdown_code(comparison_run_id)}" if comparison_run_id else "not saved"
        warnings.append(
            f"The latest comparison ({named}: split {markdown_text(comparison.protocol)}, methods "
            f"{markdown_text(', '.join(_methods_of(comparison)) or 'none')}, seeds "
            f"{markdown_text(', '.join(map(str, comparison.seeds)))}) used another augmentation, so this report does "
            "not describe it. To measure that one, reopen its run on the Runs page or run its settings on the "
            "Augment page."
        )
    return FidelityContext(caption=caption, warnings=warnings, columns=columns)


def _comparable(config: ExperimentConfig) -> dict[str, Any]:
    """A config without what a run writes about itself once it ran (seeds run, why it stopped)."""
    return {k: v for k, v in config.to_dict().items() if k not in ("seeds_run", "stopped")}


def fidelity_context(data_name: str) -> FidelityContext:
    """:func:`describe_context` for the session: the shown results, the form, the last run and comparison."""
    settings = st.session_state.get(AUGMENT_RUN_CONFIG) or st.session_state.get(AUGMENT_CONFIG) or {}
    results = st.session_state.get(AUGMENT_RESULTS) or {}
    run: Run | None = getattr(st.session_state.get(LAST_RUN), "run", None)
    comparison: ExperimentConfig | None = getattr(st.session_state.get(EXPERIMENT), "config", None)
    run_config = run.config if run is not None else None
    same = run_config is not None and comparison is not None and _comparable(run_config) == _comparable(comparison)
    comparison_run_id = run.run_id if run is not None and same else None  # a cached comparison records no run
    return describe_context(
        data_name,
        settings,
        list(results),
        form=st.session_state.get(AUGMENT_CONFIG) if AUGMENT_RUN_CONFIG in st.session_state else None,
        from_augment_page=bool(st.session_state.get(AUGMENT_DIGEST)),
        run_id=run.run_id if run is not None else None,
        run_config=run_config,
        comparison=comparison,
        comparison_run_id=comparison_run_id,
    )
