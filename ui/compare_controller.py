"""What the Compare page does (the page only draws): build the config, run and record, and the derived tables.

Every cache key comes from the run's config through :func:`ui.cached.config_key`, so a change of any setting
(target, parameters, seeds, models) is a new key and stale tables are never shown as current.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from recaug.core.progress import ProgressFn
from recaug.core.variants import budget_words, parse_budget, sweep
from recaug.data.dataset import Dataset
from recaug.evaluate.catalog import EXPERIMENT_KS
from recaug.evaluate.design import DEFAULT_PRIMARY
from recaug.evaluate.metrics import ACCURACY_METRICS
from recaug.evaluate.sequential import FIXED
from recaug.evaluate.significance import significance_table
from recaug.experiment import ExperimentConfig, ExperimentResult
from recaug.reporting.report import build_report
from recaug.reporting.runs import record_comparison, seeds_text
from ui.cached import cached_experiment, cached_value, config_key, result_store
from ui.jobs import before_steps
from ui.state import EXPERIMENT, EXPERIMENT_KEY, LAST_RUN, recalled, remember

RUN_NOW = "cmp_run_now"
DEFAULT_SEEDS = 3


def compare_config(
    dataset: Dataset,
    aug: dict[str, Any],
    models: list[str],
    n_seeds: int,
    sweep_budgets: list[str],
    *,
    primary: list[str] | None = None,
    max_seeds: int = 0,
    aa_control: bool = False,
) -> ExperimentConfig:
    """The experiment the Compare form describes: the Augment page's methods, split and seed, plus models/seeds,
    the primary question (default NDCG@10 and Recall@20), the seed limit for adding seeds until decided and the
    opt-in A/A control."""
    budgets = sorted(sweep_budgets, key=parse_budget)
    variants = sweep(aug["augmenters"], [parse_budget(b) for b in budgets]) if budgets else aug["augmenters"]
    return ExperimentConfig(
        data=dataset.name,
        protocol=aug.get("protocol", "random-811"),
        protocol_params=dict(aug.get("protocol_params") or {}),
        augmenters=variants,
        augmenter_params=aug["augmenter_params"],
        budget=aug["budget"],
        target=aug["target"],
        models=models,
        seeds=[int(aug["seed"]) + offset for offset in range(int(n_seeds))],
        primary=list(primary or DEFAULT_PRIMARY),
        # A limit at or below the seeds asked adds none: the form's caption says "fixed seeds", and the run
        # refuses a max_seeds below its seeds (ExperimentConfig.check_seeds), so the form passes 0 (off).
        max_seeds=int(max_seeds) if int(max_seeds) > int(n_seeds) else 0,
        aa_control=bool(aa_control),
    )


def primary_choices() -> list[str]:
    """metric@k choices for the primary question: accuracy metrics at the comparison's k values."""
    return [f"{m}@{k}" for m in ("ndcg", "recall", "precision", "hit", "mrr", "map") for k in EXPERIMENT_KS]


def stopping_text(result: ExperimentResult) -> str:
    """'7 seeds ran (0, ..., 6); stopped: ...' for a run that could add seeds, else ''."""
    stopping = result.stopping
    return stopping.sentence() if stopping is not None and stopping.reason != FIXED else ""


def budget_text(budget: float | int, sweep_budgets: list[str]) -> str:
    """'budgets 2%, 10%' for a sweep, else '10% of training' or '5,000 rows'."""
    if sweep_budgets:
        return "budgets " + ", ".join(sorted(sweep_budgets, key=parse_budget))
    return budget_words(budget)


def add_models_and_run(extra: list[str]) -> None:
    """Button callback: add ``extra`` to the chosen models and run the comparison in this same rerun."""
    chosen = list(st.session_state.get("cmp_models", recalled("cmp_models", [])))
    updated = [*chosen, *(m for m in extra if m not in chosen)]
    st.session_state["cmp_models"] = remember("cmp_models", updated)
    st.session_state[RUN_NOW] = True


def run_requested(clicked: bool) -> bool:
    """The Run button, or a callback that asked for a run (e.g. 'Add bpr-tuned and EASE')."""
    return bool(clicked) | bool(st.session_state.pop(RUN_NOW, False))


@dataclass(frozen=True)
class ComparisonOutcome:
    """What a comparison gives the page to keep. The work runs in a job's thread that never writes
    ``st.session_state`` (after a refresh its session is gone): :func:`keep_outcome` does, in the watching page."""

    result: ExperimentResult
    key: str
    recorded: Any  # the saved run (a RecordedComparison); None when the result came from the cache
    was_cached: bool


# run_experiment's message when a look leaves a primary row open: '3 seeds: a primary row is undecided; adding
# seeds [3, 4]'. The next batch's first step replaced it within milliseconds, so the page never showed it.
ADDING_SEEDS = re.compile(r"\d+ seeds?: a primary row is undecided; adding seeds? ")


def with_seed_stage(report: ProgressFn) -> ProgressFn:
    """``report`` that keeps the latest 'adding seeds' message in front of every later step's message, so the
    bar says why seeds were added (and which) for as long as they run, not for the moment it was sent."""
    stage = [""]

    def relay(fraction: float, message: str) -> None:
        if fraction >= 1.0:  # the run is done (saving): no seeds are being added any more
            stage[0] = ""
        if ADDING_SEEDS.match(message):
            stage[0] = message
            report(fraction, stage[0])
            return
        report(fraction, f"{stage[0]} — {message}" if stage[0] and message else message or stage[0])

    return relay


def start_executor(executor: Any, report: ProgressFn) -> None:
    """Start (or connect to) Ray before the comparison, as a phase of its own on the bar: a local head takes
    seconds, during which no step runs, so no time left is shown and the clock starts after it. An executor
    without a ``connect`` (None: the local pool) starts nothing here."""
    connect = getattr(executor, "connect", None)
    if connect is None:
        return
    with before_steps(f"{executor.starting_text()}…"):
        connect()
    report(0.0, "Ray is ready; waiting for its first tasks (each worker loads the code once)")


def run_and_record(dataset: Dataset, config: ExperimentConfig, report: Any, executor: Any = None) -> ComparisonOutcome:
    """Run (or load from cache) and save the run; ``executor`` (Ray) is started first where the run is not cached."""
    key = config_key(dataset, config.to_dict())
    report = with_seed_stage(report)
    if executor is not None and result_store().get(key) is None:
        start_executor(executor, report)
    result, was_cached = cached_experiment(dataset, config, report, executor)
    recorded = None
    if not was_cached:
        report(0.99, "saving the run")
        significance = significance_of(result, key)
        recorded = record_comparison(dataset, result, save=True, significance=significance)
        result_store().put("recorded:" + key, recorded)
    return ComparisonOutcome(result, key, recorded, was_cached)


def keep_outcome(outcome: ComparisonOutcome) -> None:
    """Show ``outcome`` on the page: the session's experiment, and its saved run (for the URL and downloads)."""
    st.session_state[EXPERIMENT], st.session_state[EXPERIMENT_KEY] = outcome.result, outcome.key
    if outcome.recorded is not None:
        st.session_state[LAST_RUN] = outcome.recorded


def significance_of(result: ExperimentResult, key: str) -> pd.DataFrame:
    """The run's significance table (cached under the run's config key)."""
    return cached_value("sig:" + key, lambda: significance_table(result))


def shown_result(dataset: Dataset, config: ExperimentConfig) -> ExperimentResult | None:
    """The session's shown comparison if it was made with the form's current settings, else None."""
    if st.session_state.get(EXPERIMENT_KEY) != config_key(dataset, config.to_dict()):
        return None
    result = st.session_state.get(EXPERIMENT)
    return result if isinstance(result, ExperimentResult) else None


def seeds_caption(config: ExperimentConfig, shown: ExperimentResult | None = None) -> str:
    """The form caption's seeds: 'seeds **0, 1, 2**'; when seeds are added until decided, the limit, and once such
    a run of these settings is shown, the seeds that ran ('seeds **0–4 (3 fixed + 2 added until decided, limit
    7)**', as the Runs page says it): a verdict of 5 seeds must not sit under 'seeds 0, 1, 2'."""
    listed = ", ".join(map(str, config.seeds))
    if config.max_seeds <= len(config.seeds):
        return f"seeds **{listed}**"
    ran = list(shown.stopping.seeds_run) if shown is not None and shown.stopping is not None else []
    if ran:
        return f"seeds **{seeds_text(config.to_dict(), ran)}**"
    return f"seeds **{listed}**, adding seeds up to {config.max_seeds} while a primary row is undecided"


def is_stale(dataset: Dataset, config: ExperimentConfig) -> bool:
    """Were the shown results made with other settings than the form's current ones?"""
    shown = st.session_state.get(EXPERIMENT_KEY)
    return shown is not None and shown != config_key(dataset, config.to_dict())


def default_slice(slices: list[str], protocol: str, results: pd.DataFrame | None = None) -> int:
    """Index of the slice to show first: the cold-item slice under the cold-items protocol where some model ranked
    a cold test item there (``results``), else ``all``: a slice where every number is 0 answers nothing."""
    preferred = "cold-items" if protocol == "cold-items" else "all"
    if preferred == "cold-items" and results is not None:
        cold = results[(results["slice"] == "cold-items") & (results["metric"].isin(list(ACCURACY_METRICS)))]
        if not (cold["value"].fillna(0) > 0).any():
            preferred = "all"
    return slices.index(preferred) if preferred in slices else 0


@dataclass(frozen=True)
class Downloads:
    """What the page offers to download for the shown run."""

    report_html: str
    run_id: str | None


def downloads(dataset: Dataset, result: ExperimentResult, key: str, significance: pd.DataFrame) -> Downloads:
    """The HTML report (cached per run) and the saved run's id."""
    recorded = result_store().get("recorded:" + key)
    run_id = recorded.run.run_id if recorded is not None and recorded.run is not None else None
    fidelity = recorded.fidelity if recorded is not None else None
    html = cached_value(
        "report:" + key,
        lambda: build_report(result, dataset=dataset, fidelity=fidelity, significance=significance, run_id=run_id),
    )
    return Downloads(html, run_id)
