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
from recaug.data.regional import RegionalControls, RegionalFormat, RegionalSettingError
from recaug.experiment.config import ExperimentConfig

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from recaug.data.dataset import Dataset
    from recaug.data.prepare import PrepareReport
    from recaug.experiment.result import ExperimentResult

# The reading settings as compare()'s keyword arguments name them: a regional error raised for a Python caller names
# these, not the CLI's flags (recaug.data.regional.CLI_CONTROLS) or the dashboard's choices (ui/errors.py).
PYTHON_CONTROLS = RegionalControls(
    dates="pass date_format='day-first' (or dayfirst=True) or date_format='month-first'",
    decimal="pass decimal=','",
)
# ExperimentConfig fields the run writes (the seeds that ran, why it stopped): results, never settings to pass.
WRITTEN_BY_RUN = ("seeds_run", "stopped")

VERDICT_COLUMNS = ["model", "variant", "slice", "metric", "k", "delta", "ci_low", "ci_high", "q_ttest", "verdict"]


def _primary(config: ExperimentConfig) -> list[tuple[str, int]]:
    """``["ndcg@10", "recall@20"]`` -> ``[("ndcg", 10), ("recall", 20)]``."""
    pairs = []
    for name in config.primary:
        metric, _, k = str(name).partition("@")
        pairs.append((metric, int(k or 10)))
    return pairs


def _one_of(wanted: str, available: Sequence[str], what: str, where: str = "") -> str:
    """``wanted`` as spelled in ``available`` (exact, else case-insensitive when that names one); RecaugInputError
    listing ``available`` otherwise."""
    if wanted in available:
        return wanted
    folded = [name for name in available if name.lower() == wanted.strip().lower()]
    if len(folded) == 1:
        return folded[0]
    raise RecaugInputError(f"no {what} '{wanted}' in this comparison{where}", fix=f"use one of: {', '.join(available)}")


def metric_at_k(table: pd.DataFrame, metric: str, k: int | None, slice_name: str) -> tuple[str, int, str]:
    """``(metric, k, slice)`` as ``table`` (results or significance) spells them: ``"ndcg@10"`` or ``("NDCG", 10)``
    name ndcg@10; RecaugInputError listing the metric@k and slices the table has when they name nothing in it."""
    slices = sorted(map(str, table["slice"].dropna().unique()))
    chosen_slice = _one_of(str(slice_name), slices, "slice")
    name, at, written_k = str(metric).partition("@")
    if at:
        try:
            parsed = int(written_k)
        except ValueError:
            raise RecaugInputError(f"cannot read '{metric}' as metric@k", fix="e.g. 'ndcg@10'") from None
        if k is not None and int(k) != parsed:
            raise RecaugInputError(f"'{metric}' and k={k} disagree", fix=f"pass '{metric}' alone")
        k = parsed
    rows = table[table["slice"].astype(str) == chosen_slice]
    pairs = sorted({(str(m), int(kk)) for m, kk in zip(rows["metric"], rows["k"], strict=True)})
    labels = [f"{m}@{kk}" for m, kk in pairs]
    label = _one_of(f"{name.strip()}@{10 if k is None else int(k)}", labels, "metric@k", f"'s slice '{chosen_slice}'")
    chosen_metric, _, chosen_k = label.rpartition("@")
    return chosen_metric, int(chosen_k), chosen_slice


@dataclass(repr=False)  # the generated repr printed every table and per-user array: ~100,000 lines
class Comparison:
    """A comparison's tables (tidy DataFrames) and figures; live runs also carry the full experiment result.

    ``results``: model, variant, seed, slice, metric, k, value (one row per number); ``significance``: one row
    per model x variant x slice x metric@k with delta, interval, p/q-values and verdict; ``cost``: per variant,
    synthetic rows, seconds and LLM calls. A comparison reloaded by :func:`load_run` has the tables only: ``cost``
    is None for a run-store run (a CLI ``--out`` folder keeps cost.csv), ``experiment`` and ``dataset`` are None
    for every reloaded run (its repr says which are missing); ``report_html()`` still works.
    """

    config: ExperimentConfig
    results: pd.DataFrame
    significance: pd.DataFrame | None
    cost: pd.DataFrame | None = None  # None for a run-store run reloaded by load_run (it does not keep cost)
    synthetic: pd.DataFrame | None = None
    experiment: ExperimentResult | None = None  # live runs only (None when reloaded): models, splits, per-user values
    dataset: Dataset | None = None  # live runs only (None when reloaded)
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
        """Wide table: baseline and augmented mean over seeds and their difference, per model x variant x metric@k.

        ``slice_name``: a slice of the results (case-insensitive); RecaugInputError listing them otherwise."""
        from recaug.experiment.result import compare_table

        slices = sorted(map(str, self.results["slice"].dropna().unique()))
        return compare_table(self.results, _one_of(str(slice_name), slices, "slice"))

    def figure(self, metric: str = "ndcg", k: int | None = None, *, slice_name: str = "all") -> go.Figure:
        """Δ metric@k per model and variant with its interval, coloured by verdict; hover shows seed noise and power.

        ``figure("ndcg", 10)``, ``figure("ndcg@10")`` and ``figure("NDCG")`` (k defaults to 10) draw the same; a
        metric@k or slice the comparison lacks raises RecaugInputError listing those it has."""
        if self.significance is None:
            raise RecaugInputError("this comparison has no significance table to draw", fix="rerun it with 3 seeds")
        from recaug.reporting.figures import delta_bars

        name, at_k, chosen_slice = metric_at_k(self.significance, metric, k, slice_name)
        return delta_bars(self.significance, name, at_k, slice_name=chosen_slice)

    def figures(self) -> dict[str, go.Figure]:
        """One figure per primary metric (``"ndcg@10"`` -> figure)."""
        return {f"{metric}@{k}": self.figure(metric, k) for metric, k in _primary(self.config)}

    def report_html(self) -> str:
        """The standalone HTML report: built from the experiment (live runs), read from the folder's report.html (a
        reloaded CLI ``--out`` folder), or built from the saved tables (a reloaded run-store run)."""
        if self.experiment is None:
            if self.path is not None and (self.path / "report.html").is_file():
                return (self.path / "report.html").read_text(encoding="utf-8")
            if self.run_id is not None and self.path is not None:
                from recaug.reporting.runs import load_run as load_stored
                from recaug.reporting.runs import run_report

                return run_report(load_stored(self.path.name, self.path.parent))
            raise RecaugInputError(
                "this reloaded comparison has no report.html and no experiment result to build one from",
                file=str(self.path) if self.path else None,
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
        if self.experiment is None and self.path is not None:  # reloaded by load_run: the tables only
            shown["missing"] = [name for name in ("cost", "experiment", "dataset") if getattr(self, name) is None]
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
    rating_threshold: float | str | None,
    kcore: int,
    item_columns: Mapping[str, str | Sequence[str]] | None = None,
    header: bool | None = None,
    columns: Sequence[str] | None = None,
    regional: RegionalFormat | None = None,
) -> tuple[Dataset, PrepareReport | None]:
    """A Dataset from a built-in name, a file, a DataFrame (columns detected as for files) or a Dataset, and what
    preparing it reported (None for a Dataset). ``items``: a file or a DataFrame, whatever ``data`` is. Errors
    name the Python arguments (``mapping=``, ``item_columns=``, ``date_format=``), not the CLI's flags."""
    from dataclasses import replace

    from recaug.data.dataset import Dataset
    from recaug.data.loading import RawData, build_dataset, load_raw
    from recaug.data.readers import PYTHON, interactions_from_frame, item_columns_choice, items_from_frame

    if isinstance(data, Dataset):
        return data, None
    if not isinstance(data, str | Path | pd.DataFrame):
        raise RecaugInputError(
            f"data must be a built-in name, a path, a DataFrame or a Dataset, got {type(data).__name__}"
        )
    regional = regional or RegionalFormat()
    item_mapping, text_columns = item_columns_choice(item_columns, caller=PYTHON)
    items_file = str(items) if isinstance(items, str | Path) else None
    label = name or "DataFrame"
    try:
        if isinstance(data, str | Path):
            raw = load_raw(
                str(data),
                items_file,
                mapping,
                name=name,
                header=header,
                columns=columns,
                regional=regional,
                item_columns=item_columns if items_file else None,
                caller=PYTHON,
            )
        else:
            interactions = interactions_from_frame(data, name=label, mapping=mapping, regional=regional, caller=PYTHON)
            if items_file is not None:
                from recaug.data.readers import read_items

                table = read_items(items_file, mapping=item_mapping, text_columns=text_columns, caller=PYTHON)
                raw = RawData(interactions, table, label, ())
            else:
                raw = RawData(interactions, None, label, ())
    except RegionalSettingError as err:  # its fix names the CLI's flags by default
        raise err.for_surface(PYTHON_CONTROLS) from None
    if isinstance(items, pd.DataFrame):
        frame_items = items_from_frame(
            items, name=f"{raw.name} items", mapping=item_mapping, text_columns=text_columns, caller=PYTHON
        )
        raw = replace(raw, items=frame_items)
    elif items is not None and items_file is None:
        raise RecaugInputError(f"items must be a path or a DataFrame, got {type(items).__name__}")
    return build_dataset(raw, rating_threshold=rating_threshold, kcore=kcore)


def compare(
    data: str | Path | pd.DataFrame | Dataset = "ml-100k",
    augment: Sequence[str] | None = None,
    models: Sequence[str] = ("pop", "itemknn", "bpr"),
    seeds: int | Sequence[int] = 3,
    *,
    items: str | Path | pd.DataFrame | None = None,
    name: str | None = None,
    mapping: Mapping[str, str] | None = None,
    item_columns: Mapping[str, str | Sequence[str]] | None = None,
    header: bool | None = None,
    columns: Sequence[str] | None = None,
    date_format: str = "auto",
    dayfirst: bool = False,
    decimal: str = "auto",
    rating_threshold: float | str | None = None,
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
    timestamp columns detected as for files, or named by ``mapping``) or a Dataset; ``items`` a file or DataFrame
    of item texts, its columns detected or named by ``item_columns`` (``{"item_id": "sku", "title": "product_name",
    "text": ["description", "category"]}``). Reading a file, as the CLI's flags of the same names: ``header=False``
    (no header row), ``columns`` (the file's column names in order), ``date_format`` ("auto", "day-first",
    "month-first" or a strftime format; ``dayfirst=True`` is "day-first") and ``decimal`` ("auto", "." or ","); the
    last two also read a DataFrame's text columns. ``rating_threshold``: keep ratings >= it ("auto": 4 of 5, 8 of
    10); ``kcore``: keep users and items with at least that many rows. Items-file problems (ids matching nothing,
    rows without interactions, which are left out of the catalogue) are warned about. ``augment``: the methods;
    default ``similarity`` where items have text, else ``itemknn-expansion``. ``seeds``: a count (3 means
    0, 1, 2) or the seeds themselves. Any other keyword is an :class:`ExperimentConfig` field (``protocol``,
    ``budget``, ``target``, ``augmenter_params``, ``model_params``, ``primary``, ``max_seeds``, ``save_top_k``,
    ``aa_control`` ...); an unknown one raises RecaugInputError listing them. ``executor``: None or ``"local"`` is
    a process pool (``workers``, default one per core), ``"serial"`` runs every fit here, ``"ray"`` a Ray cluster
    (``ray_address``, or a local head): identical results. Text methods on a catalog without item text warn
    (:func:`recaug.augment.item_text.id_text_warning`). ``save=True`` also records the run
    (fidelity included) in the run store the dashboard's Runs page lists. Nothing else is written.
    """
    set_here = ("data", "augmenters", "models", "seeds", *WRITTEN_BY_RUN)
    known = [f.name for f in fields(ExperimentConfig) if f.name not in set_here]
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
    dataset, report = _dataset(
        data,
        items,
        name=name,
        mapping=mapping,
        rating_threshold=rating_threshold,
        kcore=kcore,
        item_columns=item_columns,
        header=header,
        columns=columns,
        regional=_regional(date_format, dayfirst, decimal),
    )
    from recaug.data.loading import left_out_note

    if report is not None:  # what the CLI prints as warnings, and the catalogue's left-out items
        left_out = left_out_note(dataset, report)
        for message in (*report.warnings, *((left_out,) if left_out else ())):
            warnings.warn(message, UserWarning, stacklevel=2)
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


def _regional(date_format: str, dayfirst: bool, decimal: str) -> RegionalFormat:
    """compare()'s date_format / dayfirst / decimal as a RegionalFormat (dayfirst=True is date_format='day-first')."""
    if dayfirst and date_format not in ("auto", "day-first"):
        raise RecaugInputError(f"dayfirst=True and date_format='{date_format}' disagree", fix="pass one of them")
    return RegionalFormat(dates="day-first" if dayfirst else date_format, decimal=decimal)


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
