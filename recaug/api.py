"""recaug from Python (a notebook, a script): one call runs a comparison and returns tidy tables and figures.

>>> import recaug
>>> cmp = recaug.compare(data="ml-100k", augment=["similarity", "random"], models=["pop", "bpr"], seeds=3)
>>> cmp.verdicts            # one row per model x variant x primary metric: delta, interval, verdict
>>> cmp.figure("ndcg", 10)  # plotly: delta per model with its interval, coloured by verdict
>>> recaug.load_run("20261206-2040")  # a saved run (id, id prefix or folder) as the same kind of object

It runs the pipeline the CLI and the dashboard run (:func:`recaug.experiment.run_experiment`), so the numbers
are the same for the same seeds.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.core.progress import ProgressFn
from recaug.experiment.config import ExperimentConfig

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from recaug.data.dataset import Dataset
    from recaug.experiment.result import ExperimentResult

VERDICT_COLUMNS = ["model", "variant", "slice", "metric", "k", "delta", "ci_low", "ci_high", "q_ttest", "verdict"]


def _primary(config: ExperimentConfig) -> list[tuple[str, int]]:
    """``["ndcg@10", "recall@20"]`` -> ``[("ndcg", 10), ("recall", 20)]``."""
    pairs = []
    for name in config.primary:
        metric, _, k = str(name).partition("@")
        pairs.append((metric, int(k or 10)))
    return pairs


@dataclass(repr=False)  # the generated repr printed every table and per-user array: ~100,000 lines
class Comparison:
    """A comparison's tables (tidy DataFrames) and figures; live runs also carry the full experiment result.

    ``results``: model, variant, seed, slice, metric, k, value (one row per number); ``significance``: one row
    per model x variant x slice x metric@k with delta, interval, p/q-values and verdict; ``cost``: per variant,
    synthetic rows, seconds and LLM calls (None for a reloaded run that did not keep it).
    """

    config: ExperimentConfig
    results: pd.DataFrame
    significance: pd.DataFrame | None
    cost: pd.DataFrame | None = None
    synthetic: pd.DataFrame | None = None
    experiment: ExperimentResult | None = None  # live runs only: models, splits, per-user values
    dataset: Dataset | None = None
    run_id: str | None = None  # set when the comparison is in the run store
    path: Path | None = None  # its run-store folder, or the folder it was reloaded from

    @property
    def verdicts(self) -> pd.DataFrame:
        """The primary question's rows: delta, 95% interval, q-value, verdict (and the detectable effect).

        The rows the significance table marks ``primary`` (config.primary on slice ``all`` and on the target's
        slice); a table without that column (older runs) gives config.primary on slice ``all``.
        """
        if self.significance is None:
            return pd.DataFrame(columns=VERDICT_COLUMNS)
        table = self.significance
        if "primary" in table.columns:
            wanted = table["primary"].astype(str).str.lower().isin(["true", "1", "1.0"])
        else:
            wanted = pd.Series(False, index=table.index)
            for metric, k in _primary(self.config):
                wanted |= (table["metric"] == metric) & (table["k"] == k) & (table["slice"] == "all")
        columns = [c for c in [*VERDICT_COLUMNS, "n_seeds", "n_users", "mde"] if c in table.columns]
        # every number with its protocol, seeds and users
        return table.loc[wanted, columns].assign(protocol=self.config.protocol).reset_index(drop=True)

    def summary(self) -> str:
        """The verdicts in words, as the CLI prints them."""
        from recaug.evaluate.significance import verdict_summary

        if self.significance is None:
            return "no significance table"
        return verdict_summary(self.significance, protocol=self.config.protocol)

    def before_after(self, slice_name: str = "all") -> pd.DataFrame:
        """Wide table: baseline and augmented mean over seeds and their difference, per model x variant x metric@k."""
        from recaug.experiment.result import compare_table

        return compare_table(self.results, slice_name)

    def figure(self, metric: str = "ndcg", k: int = 10, *, slice_name: str = "all") -> go.Figure:
        """Δ metric@k per model and variant with its interval, coloured by verdict; hover shows seed noise and power."""
        if self.significance is None:
            raise RecaugInputError("this comparison has no significance table to draw", fix="rerun it with 3 seeds")
        from recaug.reporting.figures import delta_bars

        return delta_bars(self.significance, metric, k, slice_name=slice_name)

    def figures(self) -> dict[str, go.Figure]:
        """One figure per primary metric (``"ndcg@10"`` -> figure)."""
        return {f"{metric}@{k}": self.figure(metric, k) for metric, k in _primary(self.config)}

    def report_html(self) -> str:
        """The standalone HTML report (live runs: it needs the experiment result)."""
        if self.experiment is None:
            raise RecaugInputError(
                "a reloaded run has no experiment result to build the report from",
                fix="rerun it (`recaug compare --config FOLDER/config.json --out DIR`) to get report.html",
            )
        from recaug.reporting.report import build_report

        return build_report(self.experiment, dataset=self.dataset, significance=self.significance, run_id=self.run_id)

    def write(self, out: str | Path) -> list[Path]:
        """Write the files the CLI writes to ``out`` (results, significance, synthetic rows, split, cost, fidelity,
        report.html, config.json, top-k lists when kept); live runs only. Returns the paths."""
        if self.experiment is None or self.dataset is None:
            raise RecaugInputError(
                "a reloaded run has its files already", file=str(self.path), fix="copy that folder instead"
            )
        from recaug.reporting.export import write_experiment
        from recaug.reporting.runs import record_comparison
        from recaug.reporting.top_k import write_top_k

        folder = Path(out)
        written = write_experiment(self.experiment, folder)
        recorded = record_comparison(
            self.dataset, self.experiment, out=folder, save=False, significance=self.significance
        )
        return written + recorded.written + write_top_k(self.experiment.top_k, folder)

    def __repr__(self) -> str:
        """One line a terminal, log or debugger can show: data, protocol, seeds, models, arms and verdict counts."""
        config = self.config
        verdicts = self.verdicts  # a property: computed once
        counts = verdicts["verdict"].value_counts(sort=False) if "verdict" in verdicts else pd.Series(dtype=int)
        shown = {
            "data": config.data,
            "protocol": config.protocol,
            "seeds": list(config.seeds_run or config.seeds),
            "models": list(config.models),
            "arms": list(config.augmenters),
            "verdicts": {str(word): int(n) for word, n in counts.items()},
            **({"run_id": self.run_id} if self.run_id else {"path": str(self.path)} if self.path else {}),
        }
        return f"Comparison({', '.join(f'{key}={value!r}' for key, value in shown.items())})"

    def _repr_html_(self) -> str:
        """Notebooks show the verdict table."""
        title = f"<b>recaug comparison</b> {self.run_id or ''}: {self.config.data}, seeds {self.config.seeds}"
        return title + self.verdicts.to_html(index=False, float_format="{:.4f}".format, escape=True)


def _dataset(
    data: str | Path | pd.DataFrame | Dataset,
    items: str | Path | pd.DataFrame | None,
    *,
    name: str | None,
    mapping: Mapping[str, str] | None,
    rating_threshold: float | None,
    kcore: int,
) -> Dataset:
    """A Dataset from a built-in name, a file, a DataFrame (columns detected as for files) or a Dataset."""
    from recaug.data.dataset import Dataset
    from recaug.data.loading import RawData, build_dataset, load_dataset
    from recaug.data.readers import interactions_from_frame, items_from_frame

    if isinstance(data, Dataset):
        return data
    if isinstance(data, str | Path):
        if isinstance(items, pd.DataFrame):
            raise RecaugInputError("items must be a file path when data is one", fix="pass both as paths or frames")
        dataset, _ = load_dataset(
            str(data),
            items=str(items) if items is not None else None,
            mapping=mapping,
            rating_threshold=rating_threshold,
            kcore=kcore,
            name=name,
        )
        return dataset
    if not isinstance(data, pd.DataFrame):
        raise RecaugInputError(
            f"data must be a built-in name, a path, a DataFrame or a Dataset, got {type(data).__name__}"
        )
    label = name or "DataFrame"
    interactions = interactions_from_frame(data, name=label, mapping=mapping)
    if isinstance(items, str | Path):
        from recaug.data.readers import read_items

        item_table: pd.DataFrame | None = read_items(str(items))
    else:
        item_table = items_from_frame(items, name=f"{label} items") if items is not None else None
    dataset, _ = build_dataset(
        RawData(interactions, item_table, label, ()), rating_threshold=rating_threshold, kcore=kcore
    )
    return dataset


def compare(
    data: str | Path | pd.DataFrame | Dataset = "ml-100k",
    augment: Sequence[str] | None = None,
    models: Sequence[str] = ("pop", "itemknn", "bpr"),
    seeds: int | Sequence[int] = 3,
    *,
    items: str | Path | pd.DataFrame | None = None,
    name: str | None = None,
    mapping: Mapping[str, str] | None = None,
    rating_threshold: float | None = None,
    kcore: int = 0,
    progress: ProgressFn | None = None,
    executor: str | None = None,
    ray_address: str | None = None,
    workers: int | None = None,
    save: bool = False,
    runs_dir: str | Path | None = None,
    label: str = "",
    **config: Any,
) -> Comparison:
    """Baseline vs augmented models on one split protocol, every seed; returns a :class:`Comparison`.

    ``data``: ``"ml-100k"``, a file (CSV/TSV/Parquet/...), a DataFrame of interactions (user/item/rating/
    timestamp columns detected as for files, or named by ``mapping``) or a Dataset. ``augment``: the methods;
    default ``similarity`` where items have text, else ``itemknn-expansion``. ``seeds``: a count (3 means
    0, 1, 2) or the seeds themselves. Any other keyword is an :class:`ExperimentConfig` field (``protocol``,
    ``budget``, ``target``, ``augmenter_params``, ``model_params``, ``primary``, ``max_seeds``, ``save_top_k``,
    ``aa_control`` ...); an unknown one raises RecaugInputError listing them. ``executor``: None or ``"local"`` is
    a process pool (``workers``, default one per core), ``"serial"`` runs every fit here, ``"ray"`` a Ray cluster
    (``ray_address``, or a local head): identical results. Text methods on a catalog without item text warn
    (:func:`recaug.augment.item_text.id_text_warning`). ``save=True`` also records the run
    (fidelity included) in the run store the dashboard's Runs page lists. Nothing else is written.
    """
    known = [f.name for f in fields(ExperimentConfig) if f.name not in ("data", "augmenters", "models", "seeds")]
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise RecaugInputError(f"compare() got unknown setting(s) {', '.join(unknown)}", fix=f"use: {', '.join(known)}")
    if isinstance(augment, str) or isinstance(models, str):
        raise RecaugInputError("augment and models are lists of names", fix="e.g. augment=['similarity']")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    from recaug.experiment.executor import make_executor

    runner = make_executor(executor, ray_address, workers=workers) if executor is not None else None  # fails early
    from recaug.data.splits import SplitSpec

    SplitSpec.of(config.get("protocol", "random-811"), config.get("protocol_params"))  # before the data loads
    dataset = _dataset(data, items, name=name, mapping=mapping, rating_threshold=rating_threshold, kcore=kcore)
    from recaug.augment.item_text import default_methods, id_text_warning

    methods = list(augment) if augment is not None else default_methods(dataset)
    settings = ExperimentConfig(data=dataset.name, augmenters=methods, models=list(models), seeds=seed_list, **config)

    if (warning := id_text_warning(dataset, settings.augmenters, settings.augmenter_params)) is not None:
        warnings.warn(warning, UserWarning, stacklevel=2)
    from recaug.evaluate.significance import significance_table
    from recaug.experiment import run_experiment
    from recaug.experiment.cost import cost_table

    result = run_experiment(dataset, settings, progress=progress, executor=runner, fidelity=True)
    significance = significance_table(result)
    comparison = Comparison(
        config=settings,
        results=result.results,
        significance=significance,
        cost=cost_table(result),
        synthetic=result.synthetic,
        experiment=result,
        dataset=dataset,
    )
    if save:
        from recaug.reporting.runs import record_comparison

        run = record_comparison(dataset, result, significance=significance, root=runs_dir, label=label).run
        if run is not None:
            comparison.run_id, comparison.path = run.run_id, run.path
    return comparison


def _read_optional(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() and path.stat().st_size else None


def load_run(run: str | Path, runs_dir: str | Path | None = None) -> Comparison:
    """A saved comparison as a :class:`Comparison` (tables only): a run id or unique prefix from the run store,
    a run-store folder, or a CLI ``--out`` folder. RecaugInputError when it is missing or damaged."""
    from recaug.experiment.rerun import CONFIG_FILE, read_saved
    from recaug.reporting import runs

    folder = Path(run)
    if folder.is_dir() and (folder / CONFIG_FILE).is_file():
        record = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        if not isinstance(record.get("config"), dict):  # a CLI --out folder: the files the CLI wrote
            saved = read_saved(folder)
            results = _read_optional(folder / "results.csv")
            if results is None:
                raise RecaugInputError("results.csv is missing or empty", file=str(folder / "results.csv"))
            return Comparison(
                config=saved.config,
                results=results,
                significance=_read_optional(folder / "significance.csv"),
                cost=_read_optional(folder / "cost.csv"),
                synthetic=_read_optional(folder / "augmented.csv"),
                path=folder,
            )
        stored = runs.load_run(folder.name, folder.parent)
    else:
        stored = runs.load_run(str(run), runs_dir)
    return Comparison(
        config=stored.config,
        results=stored.results,
        significance=stored.significance,
        synthetic=stored.synthetic,
        run_id=stored.run_id,
        path=stored.path,
    )
