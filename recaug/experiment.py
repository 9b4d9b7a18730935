"""The pipeline as one call: split -> augment (train only) -> fit before/after -> evaluate (test, once).

The CLI and the dashboard both call :func:`run_experiment`, so they produce the
same tables. Results are tidy DataFrames:

* ``results``: model, variant, seed, slice, metric, k, value
* ``synthetic``: the synthetic rows of every augmenter and seed
* ``split``: user_id, item_id, part (of the first seed) for auditing
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import scipy.sparse as sp

from recaug.augment import create_augmenter
from recaug.augment.base import AugmentResult
from recaug.data.dataset import Dataset
from recaug.data.schema import ITEM, ORIGIN, USER
from recaug.data.splits import Split, make_split
from recaug.evaluate.catalog import ALL_METRICS, EXPERIMENT_KS, check_metrics
from recaug.evaluate.protocol import UserMetrics
from recaug.evaluate.slices import SliceContext, SliceFn, SliceValues, evaluate_sliced, slice_rows, standard_slices
from recaug.models import MODELS, create_model
from recaug.progress import ProgressFn, no_progress, sub_progress
from recaug.variants import split_variant

BASELINE = "baseline"
RESULT_COLUMNS = ["model", "variant", "seed", "slice", "metric", "k", "value"]


@dataclass
class ExperimentConfig:
    """Everything needed to reproduce a run (written to config.json)."""

    data: str = "ml-100k"
    protocol: str = "random-811"
    protocol_params: dict[str, Any] = field(default_factory=dict)  # e.g. {"n": 3} for cold-users
    augmenters: list[str] = field(default_factory=lambda: ["similarity"])
    augmenter_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    budget: float | int = 0.1
    target: str = "light-users"
    models: list[str] = field(default_factory=lambda: ["pop", "itemknn", "bpr"])
    model_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    ks: list[int] = field(default_factory=lambda: list(EXPERIMENT_KS))
    metrics: list[str] = field(default_factory=lambda: list(ALL_METRICS))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExperimentResult:
    """Tidy outputs of one run."""

    config: ExperimentConfig
    results: pd.DataFrame
    synthetic: pd.DataFrame
    split: pd.DataFrame
    augment_info: list[dict[str, Any]]
    user_metrics: dict[tuple[str, str, int], UserMetrics]
    timings: dict[str, float]
    fingerprint: str
    models: dict[tuple[str, str, int], Any] = field(default_factory=dict, repr=False)
    logs: list[pd.DataFrame] = field(default_factory=list, repr=False)  # LLM provenance logs, with a seed column
    # Per-user values of every slice, for the bootstrap CIs of recaug.evaluate.significance.
    slice_values: dict[tuple[str, str, int], dict[str, SliceValues]] = field(default_factory=dict, repr=False)


def augment_training(
    dataset: Dataset, split: Split, name: str, config: ExperimentConfig, seed: int, progress: ProgressFn
) -> AugmentResult:
    """Fit one augmenter on the training split only and draw its synthetic rows.

    ``name`` is a variant: ``method`` at the experiment's budget or ``method@budget`` (a budget sweep); the rows'
    ``origin`` and ``info["augmenter"]`` carry the variant name so sweep points stay apart downstream.
    """
    method, budget = split_variant(name)
    params = {"seed": seed, **config.augmenter_params.get(method, {}), **config.augmenter_params.get(name, {})}
    augmenter = create_augmenter(method, **params)
    augmenter.fit(dataset.training_data(split.train), progress=sub_progress(progress, 0.0, 0.8))
    # A per-augmenter "target" (e.g. --llm-target) overrides the experiment-wide one.
    result = augmenter.augment(
        config.budget if budget is None else budget,
        target=params.get("target", config.target),
        progress=sub_progress(progress, 0.8, 1.0),
    )
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
    split = make_split(dataset.interactions, config.protocol, seed, **config.protocol_params)
    results = {}
    for position, name in enumerate(config.augmenters):
        step = sub_progress(report, position / len(config.augmenters), (position + 1) / len(config.augmenters))
        results[name] = augment_training(dataset, split, name, config, seed, step)
    report(1.0, "done")
    return results


def with_titles(rows: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Add the item title next to each synthetic row, for previews and downloads."""
    titles = dataset.items.set_index("item_id")["title"]
    out = rows.copy()
    out.insert(2, "title", out["item_id"].map(titles).fillna(""))
    return out


def run_experiment(
    dataset: Dataset,
    config: ExperimentConfig,
    *,
    progress: ProgressFn | None = None,
    slice_fn: SliceFn = standard_slices,
    keep_models: bool = False,
) -> ExperimentResult:
    """Run the whole comparison; identical seeds give identical tables."""
    report = progress or no_progress
    check_metrics(config.metrics)
    for model_name in config.models:  # imports happen here, not inside the first (timed) fit
        MODELS.get(model_name).warm_up()
    variants: Sequence[str] = [BASELINE, *config.augmenters]
    steps = len(config.seeds) * (len(config.augmenters) + len(variants) * len(config.models))
    done = 0
    rows: list[dict[str, Any]] = []
    synthetic_parts: list[pd.DataFrame] = []
    infos: list[dict[str, Any]] = []
    user_metrics: dict[tuple[str, str, int], UserMetrics] = {}
    models: dict[tuple[str, str, int], Any] = {}
    timings: dict[str, float] = {}
    split_table = pd.DataFrame()
    logs: list[pd.DataFrame] = []
    slice_values: dict[tuple[str, str, int], dict[str, SliceValues]] = {}
    for seed in config.seeds:
        split = make_split(dataset.interactions, config.protocol, seed, **config.protocol_params)
        if split_table.empty:
            split_table = split.table()
        train = dataset.matrix(split.train)
        valid = dataset.matrix(split.valid)
        test = dataset.matrix(split.test)
        exclude = train + valid
        train_rows: dict[str, tuple[sp.csr_matrix, int]] = {BASELINE: (train, dataset.n_users)}
        changed: dict[str, list[pd.DataFrame]] = {}
        for name in config.augmenters:
            started = time.perf_counter()
            result = augment_training(
                dataset, split, name, config, seed, sub_progress(report, done / steps, (done + 1) / steps)
            )
            timings[f"augment:{name}:{seed}"] = time.perf_counter() - started
            synthetic_parts.append(result.rows.assign(seed=seed))
            infos.append({**result.info, "seed": seed})
            if result.log is not None and len(result.log):
                logs.append(result.log.assign(seed=seed))
            indexed, n_rows = dataset.index_synthetic(result.rows)
            kept = without_removed(dataset, split.train, result.removed)
            combined = pd.concat([kept[["user_idx", "item_idx"]], indexed[["user_idx", "item_idx"]]])
            train_rows[name] = (dataset.matrix(combined, n_users=n_rows), n_rows)
            changed[name] = [result.rows, result.removed]
            done += 1
        context = SliceContext.build(
            dataset, split, train, test, changed_rows=changed, ks=config.ks, metrics=config.metrics
        )
        for variant in variants:
            matrix, n_rows = train_rows[variant]
            # Validation only has real users; pad with empty rows for virtual users.
            valid_padded = sp.vstack([valid, sp.csr_matrix((n_rows - dataset.n_users, dataset.n_items))]).tocsr()
            for model_name in config.models:
                report(done / steps, f"seed {seed}: fitting {model_name} on {variant}")
                params = {"seed": seed, **config.model_params.get(model_name, {})}
                started = time.perf_counter()
                model = create_model(model_name, **params)
                if getattr(model, "needs_item_texts", False):  # content-aware models read the catalog's text
                    model.set_item_texts(dataset.items["text"].tolist())
                model.fit(matrix, valid_padded, progress=sub_progress(report, done / steps, (done + 1) / steps))
                timings[f"fit:{model_name}:{variant}:{seed}"] = time.perf_counter() - started
                metrics, slices = evaluate_sliced(
                    model, test, exclude, context.for_variant(variant), config.metrics, slice_fn
                )
                user_metrics[(model_name, variant, seed)] = metrics
                slice_values[(model_name, variant, seed)] = slices
                rows.extend(slice_rows(model_name, variant, seed, slices))
                if keep_models:
                    models[(model_name, variant, seed)] = model
                done += 1
    report(1.0, "done")
    synthetic = (
        pd.concat(synthetic_parts, ignore_index=True)
        if synthetic_parts
        else pd.DataFrame(columns=[USER, "item_id", "origin", "confidence", "prompt_id", "seed"])
    )
    return ExperimentResult(
        config=config,
        results=pd.DataFrame(rows, columns=RESULT_COLUMNS),
        synthetic=synthetic,
        split=split_table,
        augment_info=infos,
        user_metrics=user_metrics,
        timings=timings,
        fingerprint=dataset.fingerprint(),
        models=models,
        logs=logs,
        slice_values=slice_values,
    )


def compare_table(results: pd.DataFrame, slice_name: str = "all") -> pd.DataFrame:
    """Wide before/after table: one row per model x variant x metric@k with the mean over seeds and the delta."""
    frame = results[results["slice"] == slice_name]
    mean = frame.groupby(["model", "variant", "metric", "k"], as_index=False)["value"].mean()
    base = mean[mean["variant"] == BASELINE][["model", "metric", "k", "value"]].rename(columns={"value": "baseline"})
    merged = mean[mean["variant"] != BASELINE].merge(base, on=["model", "metric", "k"], how="left")
    merged = merged.rename(columns={"value": "augmented"})
    merged["delta"] = merged["augmented"] - merged["baseline"]
    merged["delta_pct"] = 100 * merged["delta"] / merged["baseline"].where(merged["baseline"] != 0)
    return merged[["model", "variant", "metric", "k", "baseline", "augmented", "delta", "delta_pct"]]
