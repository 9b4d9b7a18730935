"""The pipeline as one call: split -> augment (train only) -> fit before/after -> evaluate (test, once).

The CLI and the dashboard both call :func:`run_experiment`, so they produce the
same tables. Results are tidy DataFrames:

* ``results``: model, variant, seed, slice, metric, k, value
* ``synthetic``: the synthetic rows of every augmenter and seed
* ``split``: user_id, item_id, part, seed (every seed's split) for auditing; ``splits`` holds the Split objects
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.augment import create_augmenter
from recaug.augment.base import AugmentResult
from recaug.augment.targets import check_target
from recaug.core.errors import RecaugInputError
from recaug.core.progress import Cancelled, ProgressFn, labelled, no_progress, sub_progress
from recaug.core.variants import Variant
from recaug.data.dataset import Dataset
from recaug.data.schema import ITEM, ORIGIN, POLARITY, USER
from recaug.data.splits import Split
from recaug.evaluate.catalog import check_metrics
from recaug.evaluate.design import Question, resolve_primary
from recaug.evaluate.protocol import UserMetrics, selection_size
from recaug.evaluate.sequential import FIXED, Stopping, next_seeds, stop_reason
from recaug.evaluate.significance import AA_CONTROL, MIN_SEEDS, significance_from_results
from recaug.evaluate.slices import (
    SliceContext,
    SliceFn,
    SliceValues,
    evaluate_sliced,
    slice_rows,
    standard_slices,
)
from recaug.experiment.config import AA_SEED_OFFSET, BASELINE, RESULT_COLUMNS, ExperimentConfig
from recaug.experiment.fit_cache import FitCache
from recaug.experiment.result import ExperimentResult, SeedOutcome, chosen_rows, chosen_table, with_valid_users
from recaug.experiment.steps import fitted_message, variants_of
from recaug.experiment.tasks import Session
from recaug.models import MODELS, create_model

logger = logging.getLogger(__name__)


def augment_training(
    dataset: Dataset, split: Split, name: str, config: ExperimentConfig, seed: int, progress: ProgressFn
) -> AugmentResult:
    """Fit one augmenter on the training split only and draw its synthetic rows.

    ``name`` is a variant: ``method`` at the experiment's budget or ``method@budget`` (a budget sweep); the rows'
    ``origin`` and ``info["augmenter"]`` carry the variant name so sweep points stay apart downstream.
    """
    variant = Variant.parse(name)
    method, budget = variant.method, variant.budget
    params = {"seed": seed, **config.augmenter_params.get(method, {}), **config.augmenter_params.get(name, {})}
    augmenter = create_augmenter(method, **params)
    training = dataset.training_data(split.train, cold_items=split.cold_items)
    started = time.perf_counter()
    augmenter.fit(training, progress=sub_progress(progress, 0.0, 0.8))
    fit_seconds = time.perf_counter() - started
    # A per-augmenter "target" (e.g. --llm-target) overrides the experiment-wide one.
    result = augmenter.augment(
        config.budget if budget is None else budget,
        target=params.get("target", config.target),
        progress=sub_progress(progress, 0.8, 1.0),
    )
    result.info["fit_seconds"] = round(fit_seconds, 3)  # "seconds" is the generation alone
    if name != method:
        result.rows[ORIGIN] = name
        result.info["augmenter"] = name
    return result


def without_removed(dataset: Dataset, train: pd.DataFrame, removed: pd.DataFrame | None) -> pd.DataFrame:
    """Training rows minus the edges an augmenter removed (``edge-dropout``); unchanged when it removed none."""
    if removed is None or len(removed) == 0:
        return train
    dropped = pd.MultiIndex.from_arrays(
        [dataset.user_ids.get_indexer(removed[USER]), dataset.item_ids.get_indexer(removed[ITEM])]
    )
    present = pd.MultiIndex.from_arrays([train["user_idx"].to_numpy(), train["item_idx"].to_numpy()])
    return train[~present.isin(dropped)]


def run_augmenters(
    dataset: Dataset, config: ExperimentConfig, seed: int, *, progress: ProgressFn | None = None
) -> dict[str, AugmentResult]:
    """Augment the training split of ``seed`` with each configured augmenter (the Augment page's preview).

    Uses the same split and seeds as :func:`run_experiment`, so the preview equals what the comparison trains on.
    """
    report = progress or no_progress
    split = config.split_spec().build(dataset.interactions, seed)
    results = {}
    for position, name in enumerate(config.augmenters):
        step = sub_progress(report, position / len(config.augmenters), (position + 1) / len(config.augmenters))
        step = labelled(step, name) if len(config.augmenters) > 1 else step
        try:
            results[name] = augment_training(dataset, split, name, config, seed, step)
        except Cancelled as stop:
            stop.partial = results or None  # the methods finished before the stop are kept
            raise
    report(1.0, "done")
    return results


def with_titles(rows: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Add the item title next to each synthetic row, for previews and downloads."""
    titles = dataset.items.set_index("item_id")["title"]
    out = rows.copy()
    out.insert(2, "title", out["item_id"].map(titles).fillna(""))
    return out


@dataclass(frozen=True)
class TrainingMatrices:
    """One arm's training input, padded with empty rows for virtual users where needed.

    ``valid_exclude`` is the *real* training history for every arm: model selection ranks validation items with
    the same exclusion rule in both arms (synthetic items are not hidden from the augmented arm's validation).
    ``negatives`` are synthetic negative interactions (``polarity`` -1, e.g. an LLM's rejected candidate), kept
    out of the training matrix and handed to models that use fixed negatives. ``item_init`` are start vectors for
    item factors (``llm-init``; NaN rows for items without one), handed to models with ``uses_item_init``.
    """

    matrix: sp.csr_matrix
    valid: sp.csr_matrix
    valid_exclude: sp.csr_matrix
    negatives: sp.csr_matrix | None
    n_rows: int
    item_init: np.ndarray | None = None


def _padded(matrix: sp.csr_matrix, n_rows: int) -> sp.csr_matrix:
    """``matrix`` with empty rows appended up to ``n_rows`` (virtual users have no validation or history)."""
    if matrix.shape[0] == n_rows:
        return matrix
    return sp.vstack([matrix, sp.csr_matrix((n_rows - matrix.shape[0], matrix.shape[1]))]).tocsr()


def _arm(
    dataset: Dataset,
    train_rows: pd.DataFrame,
    real: tuple[sp.csr_matrix, sp.csr_matrix],
    n_rows: int,
    negative_rows: pd.DataFrame | None = None,
    item_init: pd.DataFrame | None = None,
) -> TrainingMatrices:
    """Build an arm from its training rows; ``real`` are the split's real (train, valid) matrices."""
    real_train, valid = real
    negatives = None
    if negative_rows is not None and len(negative_rows):
        negatives = dataset.matrix(negative_rows, n_users=n_rows)
    return TrainingMatrices(
        matrix=dataset.matrix(train_rows, n_users=n_rows),
        valid=_padded(valid, n_rows),
        valid_exclude=_padded(real_train, n_rows),
        negatives=negatives,
        n_rows=n_rows,
        item_init=None if item_init is None else _aligned_item_vectors(dataset, item_init),
    )


def _aligned_item_vectors(dataset: Dataset, vectors: pd.DataFrame) -> np.ndarray:
    """Item start vectors (index: item_id) on the dataset's item index; NaN rows for items without one."""
    aligned = np.full((dataset.n_items, vectors.shape[1]), np.nan, dtype=np.float32)
    where = dataset.item_ids.get_indexer(vectors.index.astype(str))
    known = where >= 0
    aligned[where[known]] = vectors.to_numpy(dtype=np.float32)[known]
    return aligned


def _fit_model(
    dataset: Dataset,
    config: ExperimentConfig,
    model_name: str,
    model_seed: int,
    arm: TrainingMatrices,
    progress: ProgressFn,
) -> Any:
    """Fit one model on one arm (see :class:`TrainingMatrices` for what validation excludes)."""
    params = {"seed": model_seed, **config.model_params.get(model_name, {})}
    model = create_model(model_name, **params)
    set_item_texts = getattr(model, "set_item_texts", None)
    if getattr(model, "needs_item_texts", False) and set_item_texts is not None:  # content-aware models read text
        set_item_texts(dataset.items["text"].tolist())
    model.fit(
        arm.matrix,
        arm.valid,
        progress=progress,
        valid_exclude=arm.valid_exclude,
        negatives=arm.negatives,
        item_init=arm.item_init,
    )
    return model


def _is_negative(rows: pd.DataFrame) -> np.ndarray:
    """Bool per synthetic row: a negative interaction (``polarity`` -1); rows without the column are positive."""
    if POLARITY not in rows.columns:
        return np.zeros(len(rows), dtype=bool)
    return pd.to_numeric(rows[POLARITY], errors="coerce").fillna(1).to_numpy() < 0


@dataclass
class SeedPlan:
    """One seed's augmentation, computed once and handed to each of the seed's fits.

    It holds what the augmenters produced (synthetic rows, removed edges, item start vectors, info, logs), which is
    small; not the split, which every process that needs it rebuilds from the seed (deterministic, and cheaper than
    shipping it: 16 MB at ML-100k). ``token`` names the plan in a process's caches (:func:`seed_state`).
    """

    seed: int
    augmented: dict[str, AugmentResult]
    timings: dict[str, float]
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def synthetic_parts(self, names: Sequence[str]) -> list[pd.DataFrame]:
        """Each augmenter's synthetic rows, tagged with the seed (merged by :func:`synthetic_table`)."""
        return [self.augmented[name].rows.assign(seed=self.seed) for name in names]

    def log_parts(self, names: Sequence[str]) -> list[pd.DataFrame]:
        """Each augmenter's LLM provenance log that has rows, tagged with the seed."""
        logs = [self.augmented[name].log for name in names]
        return [log.assign(seed=self.seed) for log in logs if log is not None and len(log)]


def synthetic_table(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Synthetic rows of several augmenters (and seeds) as the one frame results carry: ``polarity`` filled in."""
    synthetic = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=[USER, "item_id", "origin", "confidence", "prompt_id", "seed"])
    )
    if POLARITY in synthetic.columns:  # methods without negatives leave it empty: those rows are positive
        synthetic[POLARITY] = pd.to_numeric(synthetic[POLARITY], errors="coerce").fillna(1).astype(int)
    return synthetic


def _fidelity_in_background(dataset: Dataset, config: ExperimentConfig, plan: SeedPlan, split: Split) -> cf.Future[Any]:
    """The fidelity report of ``plan``'s seed (what :func:`recaug.analysis.fidelity.fidelity_for_experiment` gives
    afterwards), computed in a thread of this process while the fits run in other processes.

    Why: it took 1.6 s of a 15 s comparison at ML-100k and 3.4 s at 1M, with the pool's workers idle. Only where no
    fit runs in this process: its BLAS thread limit is process-wide and would change a fit's sums.
    """
    from recaug.analysis.fidelity.report import fidelity_report

    future: cf.Future[Any] = cf.Future()
    synthetic = synthetic_table(plan.synthetic_parts(config.augmenters))
    logs = plan.log_parts(config.augmenters)
    log = pd.concat(logs, ignore_index=True) if logs else None

    def work() -> None:
        try:
            future.set_result(fidelity_report(dataset, split.train, synthetic, llm_log=log, seed=plan.seed))
        except BaseException as error:  # handed to whoever waits on it
            future.set_exception(error)

    threading.Thread(target=work, name="recaug-fidelity", daemon=True).start()
    return future


def _fidelity_table(future: cf.Future[Any] | None) -> pd.DataFrame | None:
    """The background report once finished; None where it failed (afterwards it is computed the usual way)."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception:
        logger.warning("fidelity in the background failed; it is computed after the run instead", exc_info=True)
        return None


@dataclass(frozen=True)
class SeedState:
    """What every fit of one seed reads, built once per process from the dataset and the plan."""

    split: Split
    test: sp.csr_matrix
    exclude: sp.csr_matrix
    arms: dict[str, TrainingMatrices]
    context: SliceContext


@dataclass
class FitOutcome:
    """What one (seed, variant, model) fit sends back: its metrics and per-user values, small by design."""

    key: tuple[str, str, int]
    rows: list[dict[str, Any]]
    user_metrics: UserMetrics
    slice_values: dict[str, SliceValues]
    seconds: float
    model: Any = None
    top_k: pd.DataFrame | None = None
    selection: dict[str, Any] = field(default_factory=dict)  # what validation chose (Recommender.selection)


def plan_seed(dataset: Dataset, config: ExperimentConfig, seed: int, progress: ProgressFn = no_progress) -> SeedPlan:
    """Split ``seed`` and run every augmenter on its training part (once per seed, wherever the fits run)."""
    split = config.split_spec().build(dataset.interactions, seed)
    plan = SeedPlan(seed, {}, {})
    for position, name in enumerate(config.augmenters):
        step = sub_progress(progress, position / len(config.augmenters), (position + 1) / len(config.augmenters))
        step = labelled(step, f"augmenting with {name}, seed {seed}")
        started = time.perf_counter()
        result = augment_training(dataset, split, name, config, seed, step)
        plan.timings[f"augment:{name}:{seed}"] = time.perf_counter() - started
        result.artifacts = {}  # profiles, embeddings: previews read them, fits do not; keep the plan small
        plan.augmented[name] = result
    _remember(plan, split)
    return plan


_SPLITS: OrderedDict[str, Split] = OrderedDict()  # plans' splits built in this process (planning or fitting)
_STATES: OrderedDict[str, SeedState] = OrderedDict()
_KEEP = 4  # seeds kept per process: a worker's tasks come seed after seed
LIVE_PROGRESS_S = 0.5  # how often a run waiting on its fits names what they are doing


def _remember(plan: SeedPlan, split: Split) -> None:
    _SPLITS[plan.token] = split
    while len(_SPLITS) > _KEEP:
        _SPLITS.popitem(last=False)


def split_of(dataset: Dataset, config: ExperimentConfig, plan: SeedPlan) -> Split:
    """The plan's split: the one built while planning in this process, else rebuilt from the seed."""
    if plan.token not in _SPLITS:
        _remember(plan, config.split_spec().build(dataset.interactions, plan.seed))
    return _SPLITS[plan.token]


def seed_state(dataset: Dataset, config: ExperimentConfig, plan: SeedPlan) -> SeedState:
    """The arms, test matrices and slice context of ``plan``'s seed, built once per process (cached by token)."""
    if plan.token in _STATES:
        _STATES.move_to_end(plan.token)
        return _STATES[plan.token]
    split = split_of(dataset, config, plan)
    valid, test, train = dataset.matrix(split.valid), dataset.matrix(split.test), dataset.matrix(split.train)
    real = (train, valid)
    base_arm = _arm(dataset, split.train, real, dataset.n_users)
    arms: dict[str, TrainingMatrices] = {BASELINE: base_arm, AA_CONTROL: base_arm}
    changed: dict[str, list[pd.DataFrame]] = {}
    for name in config.augmenters:
        result = plan.augmented[name]
        indexed, n_rows = dataset.index_synthetic(result.rows)
        negative = _is_negative(indexed)
        kept = without_removed(dataset, split.train, result.removed)
        combined = pd.concat([kept[["user_idx", "item_idx"]], indexed.loc[~negative, ["user_idx", "item_idx"]]])
        arms[name] = _arm(dataset, combined, real, n_rows, indexed[negative], result.item_init)
        changed[name] = [result.rows, result.removed]
    context = SliceContext.build(
        dataset, split, train, test, changed_rows=changed, ks=config.ks, metrics=config.metrics
    )
    state = SeedState(split, test, train + valid, arms, context)
    _STATES[plan.token] = state
    while len(_STATES) > _KEEP:
        _STATES.popitem(last=False)
    return state


def top_k_table(
    dataset: Dataset, model: Any, users: np.ndarray, exclude: sp.csr_matrix, k: int, batch_size: int = 2048
) -> pd.DataFrame:
    """user_id, rank (1 = best), item_id, score: each user's ``k`` best items, ``exclude``'s items never listed
    (the test ranking's rule, ties by lower item index)."""
    from recaug.evaluate.metrics import rank_top_k
    from recaug.evaluate.protocol import score_batch_size

    k = min(k, dataset.n_items)
    step = score_batch_size(dataset.n_items, batch_size)
    tops, scores = [], []
    for start in range(0, len(users), step):
        batch = users[start : start + step]
        batch_scores = np.asarray(model.score(batch), dtype=np.float32)
        top = rank_top_k(batch_scores, exclude[batch], k)
        tops.append(top)
        scores.append(np.take_along_axis(batch_scores, top, axis=1))
    top = np.vstack(tops) if tops else np.zeros((0, k), dtype=np.int64)
    return pd.DataFrame(
        {
            USER: np.asarray(dataset.user_ids)[np.repeat(np.asarray(users, dtype=np.int64), k)],
            "rank": np.tile(np.arange(1, k + 1, dtype=np.int32), len(users)),
            ITEM: np.asarray(dataset.item_ids)[top.ravel()],
            "score": np.vstack(scores).ravel() if scores else np.zeros(0, dtype=np.float32),
        }
    )


def fit_one(
    dataset: Dataset,
    config: ExperimentConfig,
    plan: SeedPlan,
    variant: str,
    model_name: str,
    *,
    slice_fn: SliceFn = standard_slices,
    keep_models: bool = False,
    progress: ProgressFn = no_progress,
) -> FitOutcome:
    """Fit ``model_name`` on ``variant``'s arm of ``plan``'s seed and evaluate it on test: the one fit task.

    The A/A control refits the baseline's data with a fresh model seed (``AA_SEED_OFFSET``).
    """
    seed = plan.seed
    state = seed_state(dataset, config, plan)
    model_seed = seed + AA_SEED_OFFSET if variant == AA_CONTROL else seed
    started = time.perf_counter()
    model = _fit_model(dataset, config, model_name, model_seed, state.arms[variant], progress)
    seconds = time.perf_counter() - started
    metrics, slices = evaluate_sliced(
        model, state.test, state.exclude, state.context.for_variant(variant), config.metrics, slice_fn
    )
    top_k = None
    if config.save_top_k > 0:
        top_k = top_k_table(dataset, model, metrics.users, state.exclude, config.save_top_k)
    return FitOutcome(
        key=(model_name, variant, seed),
        rows=slice_rows(model_name, variant, seed, slices),
        user_metrics=metrics,
        slice_values=slices,
        seconds=seconds,
        model=model if keep_models else None,
        top_k=top_k,
        selection=model.selection(),
    )


def _fit_task(shared: tuple[Any, ...], item: tuple[SeedPlan, str, str], progress: ProgressFn = no_progress) -> Any:
    """:func:`fit_one` in the executors' shape: ``shared`` = (dataset, config, slice_fn, keep_models)."""
    dataset, config, slice_fn, keep_models = shared
    plan, variant, model_name = item
    return fit_one(
        dataset, config, plan, variant, model_name, slice_fn=slice_fn, keep_models=keep_models, progress=progress
    )


def _plan_task(shared: tuple[Any, ...], seed: int, progress: ProgressFn = no_progress) -> SeedPlan:
    """:func:`plan_seed` in the executors' shape (a cluster augments its seeds in parallel)."""
    return plan_seed(shared[0], shared[1], seed, progress)


def _heavy_first(config: ExperimentConfig) -> list[str]:
    """The models in the order their fits are queued: embedding models (seconds to minutes each) before the rest,
    so a pool does not end waiting on one long fit queued last."""
    from recaug.models.torch_base import EarlyStoppedTorchModel

    return sorted(config.models, key=lambda name: not issubclass(MODELS.get(name), EarlyStoppedTorchModel))


def assemble(
    plan: SeedPlan, split: Split, config: ExperimentConfig, fits: dict[tuple[str, str, int], FitOutcome]
) -> SeedOutcome:
    """One seed's outcome from its plan and fits, in the order a serial run lists them."""
    seed = plan.seed
    out = SeedOutcome(seed, split, [], [], [], [], dict(plan.timings), {}, {}, {})
    out.synthetic = plan.synthetic_parts(config.augmenters)
    out.infos = [{**plan.augmented[name].info, "seed": seed} for name in config.augmenters]
    out.logs = plan.log_parts(config.augmenters)
    for variant in variants_of(config):
        for model_name in config.models:
            fit = fits[(model_name, variant, seed)]
            out.timings[f"fit:{model_name}:{variant}:{seed}"] = fit.seconds
            out.user_metrics[fit.key] = fit.user_metrics
            out.slice_values[fit.key] = fit.slice_values
            out.rows.extend(fit.rows)
            out.chosen.extend(chosen_rows(fit.key, fit.selection))
            if fit.model is not None:
                out.models[fit.key] = fit.model
            if fit.top_k is not None:
                out.top_k[fit.key] = fit.top_k
    return out


def run_seed(
    dataset: Dataset,
    config: ExperimentConfig,
    seed: int,
    *,
    progress: ProgressFn | None = None,
    slice_fn: SliceFn = standard_slices,
    keep_models: bool = False,
) -> SeedOutcome:
    """One replicate in this process: split (once), augment the training part, fit every model on every arm,
    evaluate on test (:func:`run_seed_batch` with the serial executor, so each fit reports its epochs).

    The A/A control (``config.aa_control``) refits the baseline on the same training data with a fresh model seed;
    its spread across seeds is the noise floor every delta is read against.
    """
    from recaug.experiment.executor import SerialExecutor

    serial = SerialExecutor()
    batch = run_seed_batch(
        dataset, config, [seed], progress=progress, slice_fn=slice_fn, keep_models=keep_models, executor=serial
    )
    return batch[0]


def run_experiment(
    dataset: Dataset,
    config: ExperimentConfig,
    *,
    progress: ProgressFn | None = None,
    slice_fn: SliceFn = standard_slices,
    keep_models: bool = False,
    executor: Any = None,
    fidelity: bool = False,
) -> ExperimentResult:
    """Run the whole comparison; identical seeds give identical tables, in this process or on an executor.

    ``executor``: None is the local process pool (see :func:`run_seed_batch`); ``SerialExecutor`` runs every fit
    here; ``RayExecutor`` on a cluster. ``fidelity``: also compute the first seed's fidelity report while the fits
    run elsewhere (``result.fidelity``; :func:`recaug.reporting.runs.record_comparison` uses it, else computes it).
    """
    report = progress or no_progress
    config.check_seeds()
    check_target(config.target, dataset.user_ids)
    check_metrics(config.metrics)
    config = replace(config, primary=resolve_primary(config.primary, config.metrics, config.ks))
    config.split_spec()  # bad protocol parameters fail before any compute
    refused = []
    for model_name in config.models:  # imports happen here, not inside the first (timed) fit
        MODELS.get(model_name).warm_up()
        # Refuse sizes a model cannot fit (e.g. EASE's dense item x item matrix) now, not after augmenting.
        try:
            create_model(model_name, **config.model_params.get(model_name, {})).check_size(
                dataset.n_users, dataset.n_items, n_interactions=len(dataset.interactions)
            )
        except RecaugInputError as error:
            refused.append(f"{model_name}: {error}")
    if refused:  # every refusal at once, so one edit of the model list fixes the run
        raise RecaugInputError(
            f"{len(refused)} of the chosen models cannot fit data of this size ({dataset.n_users:,} users, "
            f"{dataset.n_items:,} items, {len(dataset.interactions):,} interactions): " + "; ".join(refused),
            fix="remove them from the model list (or follow each one's advice) and run again",
        )
    try:
        outcomes, stopping = _seeds_until_decided(
            dataset,
            config,
            report,
            partial(run_seed_batch, slice_fn=slice_fn, keep_models=keep_models, executor=executor, fidelity=fidelity),
        )
    except Cancelled as stop:  # a stop keeps the finished seeds, as a result of those seeds only
        done = list(stop.partial or [])
        if done:
            # What was kept says it was cut short, and what was asked: a reader of the run (or its rerun) must not
            # take the finished seeds for the declared design.
            kept = [o.seed for o in done]
            asked = ", ".join(map(str, config.seeds)) + (f" (up to {config.max_seeds})" if config.max_seeds else "")
            why = f"{stop.reason} after {len(kept)} finished seed{'s' if len(kept) != 1 else ''}; seeds asked: {asked}"
            kept_config = replace(config, seeds=kept, seeds_run=kept, stopped=why)
            stop.partial = replace(_merge(dataset, kept_config, done), stopping=Stopping(tuple(kept), why))
        else:
            stop.partial = None
        raise
    report(1.0, "done")
    ran = replace(config, seeds_run=list(stopping.seeds_run), stopped=stopping.reason)
    return replace(_merge(dataset, ran, outcomes), stopping=stopping)


def _seeds_until_decided(
    dataset: Dataset, config: ExperimentConfig, report: ProgressFn, batch: Any
) -> tuple[list[SeedOutcome], Stopping]:
    """Run ``config.seeds``; with ``config.max_seeds`` above them, add the next unused seeds a batch at a time while
    a primary row is undecided and could still be decided (:mod:`recaug.evaluate.sequential`)."""
    seeds = list(config.seeds)
    limit = int(config.max_seeds or 0)
    if limit <= len(seeds):
        return batch(dataset, config, seeds, progress=report), Stopping(tuple(seeds), FIXED)
    if len(seeds) < MIN_SEEDS:
        raise RecaugInputError(
            f"adding seeds until decided starts from at least {MIN_SEEDS} seeds, got {len(seeds)}",
            fix=f"start with --seeds 0,1,2 (or drop --max-seeds {limit})",
        )
    question = Question.from_config(config)
    outcomes: list[SeedOutcome] = []
    todo = seeds
    while True:
        done = len(outcomes)
        step = sub_progress(report, done / limit, (done + len(todo)) / limit)
        try:
            outcomes += batch(dataset, config, todo, progress=step)
        except Cancelled as stop:  # the seeds of earlier batches are finished too
            stop.partial = outcomes + list(stop.partial or [])
            raise
        used = [o.seed for o in outcomes]
        rows = [row for o in outcomes for row in o.rows if question.is_primary_cell(row)]
        looked = replace(question, seed_order=tuple(used))
        table = significance_from_results(pd.DataFrame(rows, columns=RESULT_COLUMNS), question=looked)
        reason = stop_reason(table, len(used), limit)
        if reason is not None:
            return outcomes, Stopping(tuple(used), reason)
        following = next(n for n in question.looks if n > len(used))
        todo = next_seeds(used, following - len(used))
        added = ", ".join(map(str, todo))
        report(len(used) / limit, f"{len(used)} seeds: a primary row is undecided; adding seeds {added}")


def run_seed_batch(
    dataset: Dataset,
    config: ExperimentConfig,
    seeds: Sequence[int],
    *,
    progress: ProgressFn | None = None,
    slice_fn: SliceFn = standard_slices,
    keep_models: bool = False,
    executor: Any = None,
    fidelity: bool = False,
) -> list[SeedOutcome]:
    """Run the replicates ``seeds`` and return their outcomes in seed order: the one seam between *how* fits run
    (here, a process pool or Ray) and *how many* seeds run (a fixed list, or seeds added until the primary question
    is decided).

    Every (seed, arm, model) fit is its own task. Each seed is split and augmented once (here, or as a task where
    the executor ``plans_remotely``), and its fits are queued as soon as its plan exists, so they run while the
    next seed augments. ``executor``: None is the local process pool with one worker per core
    (:class:`recaug.experiment.executor.ProcessExecutor`); every executor gives the same bytes. One progress bar
    runs over every augmentation and fit. ``fidelity``: where the fits run in other processes, the first seed's
    fidelity report (``config.seeds[0]``, if among ``seeds``) is computed here meanwhile and kept on its outcome.
    """
    from recaug.experiment.executor import ProcessExecutor

    report = progress or no_progress
    runner = executor if executor is not None else ProcessExecutor()
    seeds = list(seeds)
    variants = variants_of(config)
    models = _heavy_first(config)
    total = max(1, len(seeds) * (len(config.augmenters) + len(variants) * len(models)))
    done = 0
    plans: dict[int, SeedPlan] = {}
    splits: dict[int, Split] = {}
    fits: dict[tuple[str, str, int], FitOutcome] = {}
    pending: dict[cf.Future[Any], tuple[str, str, int]] = {}
    cache: FitCache | None = getattr(runner, "fit_cache", None)
    fingerprint = dataset.fingerprint() if cache is not None else ""
    failed: list[tuple[tuple[str, str, int], str]] = []
    fidelity_seed = config.seeds[0] if fidelity and config.seeds and config.seeds[0] in seeds else None
    fidelity_future: cf.Future[Any] | None = None

    def cache_key(key: tuple[str, str, int]) -> str:
        assert cache is not None
        return cache.key(fingerprint, config, key, slice_fn, keep_models)

    def take(future: cf.Future[Any]) -> None:
        """One finished fit in: kept (and cached), or its failure noted where a cache keeps the others."""
        nonlocal done
        key = pending.pop(future)
        try:
            fits[key] = future.result()
        except Exception as error:
            if cache is None:
                raise
            failed.append((key, f"{key[0]} on {key[1]}, seed {key[2]}: {_one_line(error)}"))
            return
        if cache is not None:
            cache.put(cache_key(key), fits[key])
        done += 1
        report(done / total, fitted_message(*key, done, total))

    def collect(wait: bool, session: Session | None = None) -> None:
        """Take in finished fits (all of them, waiting, when ``wait``), advancing the one progress bar. With a fit
        cache (a cluster), a failed fit is noted and the others go on; without one, its error ends the run. While
        waiting, the fits running in other processes are named with their last message (a BPR fit's epoch and
        validation score) every ``LIVE_PROGRESS_S``: the bar itself moves when a fit finishes."""
        while pending:
            for future in [f for f in pending if f.done()]:
                take(future)
            if not wait or not pending:
                return
            cf.wait(list(pending), timeout=LIVE_PROGRESS_S, return_when=cf.FIRST_COMPLETED)
            running = session.running() if session is not None else []
            live = [(pending[future], message) for future, message in running if future in pending]
            if live and not any(future.done() for future in pending):
                names = "; ".join(f"{m} on {v}, seed {s} ({message})" for (m, v, s), message in live)
                report(done / total, f"running {names} · {done} of {total} steps done")

    def finished() -> list[SeedOutcome]:
        """The seeds whose fits are all in, in seed order (what a stop keeps)."""
        for future in [f for f in pending if f.done() and not f.cancelled() and f.exception() is None]:
            fits[pending.pop(future)] = future.result()
        complete = [s for s in splits if all((m, v, s) in fits for v in variants for m in models)]
        return [assemble(plans[seed], splits[seed], config, fits) for seed in seeds if seed in complete]

    try:
        with runner.session((dataset, config, slice_fn, keep_models)) as session:
            if runner.plans_remotely:
                futures = [session.submit(_plan_task, seed) for seed in seeds]
                for seed, future in zip(seeds, futures, strict=True):
                    plans[seed] = future.result()
                    done += len(config.augmenters)
                    report(done / total, f"seed {seed}: augmented")
            for seed in seeds:
                if seed not in plans:
                    step = sub_progress(report, done / total, (done + len(config.augmenters)) / total)
                    plans[seed] = plan_seed(dataset, config, seed, step)
                    done += len(config.augmenters)
                splits[seed] = split_of(dataset, config, plans[seed])
                # Model-major: every arm's long fits queue before any short one, so a pool ends on short fits.
                for model_name in models:
                    for variant in variants:
                        step = sub_progress(report, done / total, (done + 1) / total)
                        report(done / total, f"seed {seed}: fitting {model_name} on {variant}")
                        key = (model_name, variant, seed)
                        kept = cache.get(cache_key(key)) if cache is not None else None
                        if kept is not None:  # finished by an earlier run of the same comparison
                            fits[key] = kept
                            done += 1
                            continue
                        future = session.submit(_fit_task, (plans[seed], variant, model_name), progress=step)
                        pending[future] = key
                        collect(wait=False)
            if fidelity_seed is not None and not session.runs_here:
                plan, split = plans[fidelity_seed], splits[fidelity_seed]
                fidelity_future = _fidelity_in_background(dataset, config, plan, split)
            collect(wait=True, session=session)
    except Cancelled as stop:  # the stop came from the progress callback, here or inside a fit run here
        stop.partial = finished()
        raise
    finally:
        if fidelity_future is not None:  # its thread limits BLAS process-wide: nothing else starts before it ends
            cf.wait([fidelity_future])
    if failed:
        assert cache is not None
        # "first" in plan order (seed, arm, model), not in the order a busy cluster happened to finish them
        failed.sort(key=lambda entry: (entry[0][2], variants.index(entry[0][1]), models.index(entry[0][0])))
        raise RecaugInputError(
            f"{len(failed)} of {len(fits) + len(failed)} fits failed on {runner.name} (after retries); first: "
            f"{failed[0][1]}",
            fix=f"fix the cause and rerun the same comparison: the {len(fits)} finished fits are kept in "
            f"{cache.folder} and are not computed again",
        )
    outcomes = [assemble(plans[seed], splits[seed], config, fits) for seed in seeds]
    for outcome in outcomes:
        if outcome.seed == fidelity_seed:
            outcome.fidelity = _fidelity_table(fidelity_future)
    return outcomes


def _one_line(error: BaseException) -> str:
    """A task's failure as one line: its own exception, not an executor's wrapper with a remote traceback."""
    cause = getattr(error, "cause", None) or error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[-1] if lines else ''}".strip()


def _merge(dataset: Dataset, config: ExperimentConfig, outcomes: Sequence[SeedOutcome]) -> ExperimentResult:
    """One result from the seeds' outcomes, in seed order."""
    synthetic = synthetic_table([part for o in outcomes for part in o.synthetic])
    splits = {o.seed: o.split for o in outcomes}
    selection = {
        seed: (min(selection_size(dataset.n_items), users), users)
        for seed, users in ((seed, int(split.valid[USER].nunique())) for seed, split in splits.items())
    }
    return ExperimentResult(
        config=config,
        results=pd.DataFrame([row for o in outcomes for row in o.rows], columns=RESULT_COLUMNS),
        synthetic=synthetic,
        split=pd.concat([split.table() for split in splits.values()], ignore_index=True),
        augment_info=[info for o in outcomes for info in o.infos],
        user_metrics={k: v for o in outcomes for k, v in o.user_metrics.items()},
        timings={k: v for o in outcomes for k, v in o.timings.items()},
        fingerprint=dataset.fingerprint(),
        models={k: v for o in outcomes for k, v in o.models.items()},
        logs=[log for o in outcomes for log in o.logs],
        slice_values={k: v for o in outcomes for k, v in o.slice_values.items()},
        splits=splits,
        top_k={k: v for o in outcomes for k, v in o.top_k.items()},
        selection=selection,
        fidelity=next((o.fidelity for o in outcomes if o.fidelity is not None), None),
        chosen=with_valid_users(chosen_table([row for o in outcomes for row in o.chosen]), selection),
    )
