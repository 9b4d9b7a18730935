"""The run store: every comparison saved as a folder that can be listed, reloaded and compared later.

Layout of one run (``<runs dir>/<run id>/``)::

    config.json        the ExperimentConfig, data fingerprint, seeds, augmenter info, timings, created time
    results.csv        model, variant, seed, slice, metric, k, value
    significance.csv   (when computed) model, variant, slice, metric, k, delta, ci_low, ci_high, p_ttest, p_wilcoxon
    fidelity.csv       (when computed) method, metric, value, range, higher_is_better, error, ...
    selection.csv      (when a model chose on validation; runs saved since it was recorded) model, variant, seed,
                       setting, value, valid_ndcg@10, valid_users: what validation chose per fit (a BPR's epoch,
                       a grid's point) and how many validation users it had (empty in runs saved before 2026-12-07)
    synthetic.parquet  the synthetic rows of every augmenter and seed
    llm_log.jsonl      (when present) one LLM call per line

Run ids are ``YYYYmmdd-HHMMSS-<6 hex>`` (UTC), so sorting ids sorts runs by time. The folder is
``runs_dir()``: an explicit argument, else ``$RECAUG_RUNS_DIR``, else ``recaug_home()/runs``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from recaug.analysis.fidelity import experiment_log
from recaug.core.atomic import PARTIAL_SUFFIX, partial_folder, publish, remove_stale_partials
from recaug.core.errors import RecaugInputError
from recaug.core.paths import recaug_home
from recaug.core.progress import ProgressFn, no_progress, sub_progress
from recaug.data.dataset import Dataset
from recaug.evaluate.significance import significance_table
from recaug.experiment import ExperimentConfig, ExperimentResult
from recaug.reporting.export import SELECTION_FILE, llm_log_jsonl, redact_secrets, to_csv_bytes, to_parquet_bytes

logger = logging.getLogger(__name__)

RUNS_ENV = "RECAUG_RUNS_DIR"
# runs_dir()'s default in words, for the CLI's --runs-dir / --dir help (recaug_home(): $RECAUG_HOME or ~/.cache/recaug)
RUNS_DIR_HELP = "run store (default: $RECAUG_RUNS_DIR if set, else $RECAUG_HOME/runs, else ~/.cache/recaug/runs)"
CONFIG_FILE = "config.json"
RESULTS_FILE = "results.csv"
SPLIT_FILE = "split.parquet"
RESULT_COLUMNS = ("model", "variant", "seed", "slice", "metric", "k", "value")  # what list, show and compare read
MANIFEST_FILE = "manifest.json"  # every file's size and checksum, written at save, checked at load
SELECTION_RECORDED = "selection_recorded"  # config.json: the run kept what validation chose (selection.csv if any)
DATASETS = ".datasets"  # prepared data by fingerprint (recaug.data.store), hidden from the run list
OK = "ok"
LIST_COLUMNS = [
    "run_id",
    "status",
    "created",
    "label",
    "data",
    "sources",
    "fingerprint",
    "protocol",
    "augmenters",
    "models",
    "seeds",
    "n_synthetic",
    "has_fidelity",
    "has_significance",
    "path",
]


def runs_dir(root: str | Path | None = None) -> Path:
    """The run store folder (created if missing): ``root``, else ``$RECAUG_RUNS_DIR``, else ``recaug_home()/runs``."""
    folder = Path(root) if root is not None else Path(os.environ.get(RUNS_ENV) or recaug_home() / "runs")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_run_id(config: dict[str, Any], fingerprint: str, now: float | None = None) -> str:
    """Sortable id: UTC timestamp plus a short hash of the config, data and time (unique within a second)."""
    now = time.time() if now is None else now
    stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%d-%H%M%S")
    digest = hashlib.sha256(
        json.dumps([config, fingerprint, time.time_ns(), os.getpid()], sort_keys=True, default=str).encode()
    ).hexdigest()[:6]
    return f"{stamp}-{digest}"


@dataclass
class Run:
    """A reloaded run; optional tables are None when the run did not record them."""

    run_id: str
    path: Path
    meta: dict[str, Any]
    results: pd.DataFrame
    synthetic: pd.DataFrame
    significance: pd.DataFrame | None = None
    fidelity: pd.DataFrame | None = None
    llm_log: pd.DataFrame | None = None
    chosen: pd.DataFrame | None = None  # selection.csv: None for runs saved before it was recorded

    @property
    def config(self) -> ExperimentConfig:
        """The ExperimentConfig (keys unknown to this version are ignored)."""
        known = {f.name for f in fields(ExperimentConfig)}
        return ExperimentConfig(**{k: v for k, v in self.meta.get("config", {}).items() if k in known})

    @property
    def fingerprint(self) -> str:
        return str(self.meta.get("data_fingerprint", ""))


def _optional_frame(value: Any) -> pd.DataFrame | None:
    return value if isinstance(value, pd.DataFrame) and len(value.columns) else None


def save_run(
    result: ExperimentResult,
    *,
    fidelity: pd.DataFrame | None = None,
    significance: pd.DataFrame | None = None,
    llm_log: pd.DataFrame | None = None,
    label: str = "",
    extra: dict[str, Any] | None = None,
    root: str | Path | None = None,
    dataset: Dataset | None = None,
) -> Run:
    """Write one run and return it as reloaded. Significance and the LLM log default to the result's own.

    ``dataset`` records the real data name and source files, and keeps the prepared data (by fingerprint) so
    the run can be reopened. The folder is written under a temporary name and renamed at the end, so a crash
    never leaves a half-written run in the list. Keys typed into base URLs are redacted.
    """
    significance = significance if significance is not None else _optional_frame(getattr(result, "significance", None))
    llm_log = llm_log if llm_log is not None else experiment_log(result)
    config = redact_secrets(result.config.to_dict())
    if dataset is not None and config.get("data") in ("", None, "ml-100k") and dataset.name != config.get("data"):
        config["data"] = dataset.name  # an older caller left the default: record the data it really used
    run_id = new_run_id(config, result.fingerprint)
    folder = runs_dir(root)
    tmp = partial_folder(folder, run_id)
    meta = {
        "run_id": run_id,
        "created": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "label": label,
        "config": config,
        "data_name": dataset.name if dataset is not None else config.get("data", ""),
        "sources": list(dataset.sources) if dataset is not None else [],
        "data_fingerprint": result.fingerprint,
        "seeds": list(result.config.seeds),
        "augment_info": redact_secrets(result.augment_info),
        "timings": result.timings,
        "n_synthetic": len(result.synthetic),
        "has_fidelity": fidelity is not None,
        "has_significance": significance is not None,
        SELECTION_RECORDED: True,  # selection.csv's absence then means nothing was chosen, not an older run
        "manifest": MANIFEST_FILE,  # its absence from a run that names it is damage, not an older version
        **(extra or {}),
    }
    try:
        (tmp / RESULTS_FILE).write_bytes(to_csv_bytes(result.results))
        (tmp / "synthetic.parquet").write_bytes(to_parquet_bytes(result.synthetic))
        if len(result.chosen):
            (tmp / SELECTION_FILE).write_bytes(to_csv_bytes(result.chosen))
        if isinstance(result.split, pd.DataFrame) and len(result.split):
            (tmp / SPLIT_FILE).write_bytes(to_parquet_bytes(result.split))
        if significance is not None:
            (tmp / "significance.csv").write_bytes(to_csv_bytes(significance))
        if fidelity is not None:
            (tmp / "fidelity.csv").write_bytes(to_csv_bytes(fidelity))
        if llm_log is not None:
            (tmp / "llm_log.jsonl").write_bytes(llm_log_jsonl([llm_log]))
        from recaug.augment.llm.skill import SKILL_FILE, skill_table

        if (skill := skill_table(result.augment_info)) is not None:  # when an LLM skill check ran
            (tmp / SKILL_FILE).write_bytes(to_csv_bytes(skill))
        write_manifest(tmp, {RESULTS_FILE: len(result.results)})
        (tmp / CONFIG_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
        if dataset is not None:
            from recaug.data.store import save_dataset

            save_dataset(dataset, datasets_dir(folder))
        if not publish(tmp, folder / run_id):
            raise FileExistsError(f"run {run_id} already exists in {folder}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("saved run %s to %s", run_id, folder)
    return load_run(run_id, root=folder)


def _entries(folder: Path) -> list[Path]:
    """Everything in the store but its hidden parts (temporary folders, the data store), newest id first."""
    try:
        entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    except OSError as err:
        raise RecaugInputError(
            f"the run store cannot be read ({type(err).__name__}: {err})",
            file=str(folder),
            fix=f"check the folder's permissions, or point ${RUNS_ENV} / --runs-dir at another folder",
        ) from None
    return sorted(entries, key=lambda p: p.name, reverse=True)


def _run_folders(folder: Path) -> list[Path]:
    """Every run folder, damaged ones included (stray files and links are not runs)."""
    return [p for p in _entries(folder) if _stray(p) is None]


def _stray(path: Path) -> str | None:
    """Why a store entry is not a run folder (None when it is one): a link is never followed, a file is no run."""
    if path.is_symlink():
        try:
            return f"a symbolic link to {os.readlink(path)}, not a run folder"
        except OSError:
            return "a symbolic link, not a run folder"
    if not path.is_dir():
        return "a file, not a run folder"
    return None


def write_manifest(folder: Path, rows: dict[str, int]) -> None:
    """Record every file's size and SHA-256 (and the row counts given) so a cut or changed file is caught."""
    files = {
        p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p), **({"rows": rows[p.name]} if p.name in rows else {})}
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name not in (CONFIG_FILE, MANIFEST_FILE)
    }
    (folder / MANIFEST_FILE).write_text(json.dumps({"files": files}, indent=2, sort_keys=True))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest_problem(path: Path, meta: dict[str, Any], deep: bool) -> str | None:
    """What the manifest finds wrong: a listed file missing, cut (size) or, when ``deep``, changed (checksum)."""
    if not meta.get("manifest"):
        return None  # saved before manifests existed: nothing to check against
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text())
        files = manifest["files"]
        expected = {str(name): (int(entry["bytes"]), str(entry["sha256"])) for name, entry in files.items()}
    except FileNotFoundError:
        return f"{MANIFEST_FILE} is missing"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        return f"{MANIFEST_FILE} is unreadable ({type(err).__name__})"
    for name, (size, checksum) in expected.items():
        file = path / name
        if not file.is_file():
            return f"{name} is missing"
        actual = file.stat().st_size
        if actual != size:
            return f"{name} has {actual:,} bytes but was saved with {size:,} (cut or changed)"
        if deep and _sha256(file) != checksum:
            return f"{name} has changed since it was saved (its checksum differs)"
    return None


def _wrong_type(name: str, value: Any, expected: Any) -> str | None:
    """Why ``value`` cannot stand where a value like ``expected`` belongs (None when it can)."""
    if isinstance(expected, bool):
        ok = isinstance(value, bool)
    elif isinstance(expected, int | float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif isinstance(expected, str | list | dict):
        ok = isinstance(value, type(expected))
        if ok and isinstance(expected, list) and expected:
            ok = all(isinstance(item, type(expected[0])) and not isinstance(item, bool) for item in value)
    else:
        ok = True
    return None if ok else f"'{name}' is {json.dumps(value, default=str)[:60]}, not {_kind(expected)}"


def _kind(expected: Any) -> str:
    if isinstance(expected, list):
        return f"a list of {type(expected[0]).__name__}" if expected else "a list"
    return {bool: "true/false", int: "a number", float: "a number", str: "text", dict: "a mapping"}.get(
        type(expected), type(expected).__name__
    )


# What a run record holds, by example: a value of another type is damage (a hand-edited "seeds": 7 once stopped
# the whole list).
_RECORD_TYPES: dict[str, Any] = {
    "config": {},
    "seeds": [0],
    "sources": [""],
    "label": "",
    "data_name": "",
    "data_fingerprint": "",
    "created": "",
    "n_synthetic": 0,
}


# Config fields that may also hold another type than their default's: a target is a name or a list of user ids.
_CONFIG_ALSO: dict[str, Any] = {"target": [""]}


def _record_problem(meta: Any) -> str | None:
    """Why a run record cannot be used: not a mapping, or a field (its config's too) of the wrong type."""
    if not isinstance(meta, dict):
        return f"{CONFIG_FILE} does not hold a run record"
    for key, example in _RECORD_TYPES.items():
        if key in meta and (problem := _wrong_type(key, meta[key], example)):
            return f"{CONFIG_FILE}: {problem}"
    defaults = ExperimentConfig().to_dict()
    for key, value in meta.get("config", {}).items():
        if key in _CONFIG_ALSO and _wrong_type(key, value, _CONFIG_ALSO[key]) is None:
            continue
        if key in defaults and (problem := _wrong_type(f"config.{key}", value, defaults[key])):
            return f"{CONFIG_FILE}: {problem}"
    return None


def run_problem(path: Path, *, deep: bool = False) -> str | None:
    """Why the run at ``path`` cannot be opened (None when it can).

    Missing, empty, unreadable or cut files, a record with fields of the wrong type, or anything else that
    raises while looking: every failure is a reason, never an exception. ``deep`` also compares checksums.
    """
    try:
        return _run_problem(path, deep)
    except Exception as err:  # a run that cannot even be examined is damaged, whatever the error
        return f"the folder could not be read ({type(err).__name__}: {str(err)[:120]})"


def _run_problem(path: Path, deep: bool) -> str | None:
    stray = _stray(path)
    if stray is not None:
        return stray
    os.listdir(path)  # an unreadable folder raises here, and is reported as such
    config = path / CONFIG_FILE
    if not config.exists():
        return f"{CONFIG_FILE} is missing"
    try:
        meta = json.loads(config.read_text())
    except (OSError, ValueError) as err:
        return f"{CONFIG_FILE} is unreadable ({type(err).__name__}: {str(err)[:80]})"
    problem = _record_problem(meta)
    if problem is not None:
        return problem
    results = path / RESULTS_FILE
    if not results.exists():
        return f"{RESULTS_FILE} is missing"
    problem = _manifest_problem(path, meta, deep)
    if problem is not None:
        return problem
    try:
        frame = pd.read_csv(results, nrows=5)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        return f"{RESULTS_FILE} is empty or unreadable ({type(err).__name__})"
    missing = set(RESULT_COLUMNS) - set(frame.columns)
    if missing:
        return f"{RESULTS_FILE} lacks the column(s) {', '.join(sorted(missing))}"
    return None


def _meta_or_empty(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads((path / CONFIG_FILE).read_text())
    except Exception:  # shown as damaged by run_problem; here only what the record still says is wanted
        return {}
    return meta if isinstance(meta, dict) else {}


def _text(value: Any, sep: str = ",") -> str:
    """A record field as one line of text, whatever its type (lists joined)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return sep.join(map(str, value))
    return str(value)


def _list_row(path: Path) -> dict[str, Any]:
    """One line of the run list; a damaged run shows its reason and whatever its record still says."""
    stray = _stray(path)
    problem = stray if stray is not None else run_problem(path)
    status = OK if problem is None else f"stray: {problem}" if stray is not None else f"damaged: {problem}"
    meta = _meta_or_empty(path) if stray is None else {}
    config: dict[str, Any] = meta["config"] if isinstance(meta.get("config"), dict) else {}
    try:
        has_fidelity, has_significance = (path / "fidelity.csv").exists(), (path / "significance.csv").exists()
    except OSError:
        has_fidelity = has_significance = False
    n_synthetic = meta.get("n_synthetic", 0)
    return {
        "run_id": path.name,
        "status": status,
        "created": _text(meta.get("created", "")),
        "label": _text(meta.get("label", "")),
        "data": _text(meta.get("data_name") or config.get("data", "")),
        "sources": _text(meta.get("sources", []), ", "),
        "fingerprint": _text(meta.get("data_fingerprint", "")),
        "protocol": _text(config.get("protocol", "")),
        "augmenters": _text(config.get("augmenters", [])),
        "models": _text(config.get("models", [])),
        "seeds": seeds_text(config, _seeds_ran(meta, config, path), sep=","),
        "n_synthetic": n_synthetic if isinstance(n_synthetic, int) and not isinstance(n_synthetic, bool) else 0,
        "has_fidelity": has_fidelity,
        "has_significance": has_significance,
        "path": str(path),
    }


def list_runs(root: str | Path | None = None) -> pd.DataFrame:
    """One row per entry of the run store, newest first (columns :data:`LIST_COLUMNS`).

    A damaged run is listed with ``status`` "damaged: <reason>" and whatever its record still says; a file or
    link that is not a run folder with "stray: <what it is>". Nothing hides, and no entry stops the others from
    being listed. Temporary folders of saves that died are removed once stale.
    """
    folder = runs_dir(root)
    remove_stale_partials(folder)
    rows = []
    for path in _entries(folder):
        try:
            rows.append(_list_row(path))
        except Exception as err:  # the last line of defence: a run that breaks the row builder is still listed
            logger.warning("could not describe %s", path, exc_info=True)
            rows.append(
                {
                    **dict.fromkeys(LIST_COLUMNS, ""),
                    "run_id": path.name,
                    "path": str(path),
                    "n_synthetic": 0,
                    "has_fidelity": False,
                    "has_significance": False,
                    "status": f"damaged: could not be listed ({type(err).__name__}: {str(err)[:120]})",
                }
            )
    return pd.DataFrame(rows, columns=LIST_COLUMNS)


def _seeds_ran(meta: dict[str, Any], config: dict[str, Any], path: Path) -> list[int]:
    """The seeds a run really ran: its record (``seeds_run``), else its results' seed column (a run saved before
    ``seeds_run`` existed), else the seeds it was started with."""
    ran = config.get("seeds_run")
    if isinstance(ran, list) and ran:
        return [int(s) for s in ran]
    started = meta.get("seeds", config.get("seeds", []))
    if int(config.get("max_seeds") or 0) > len(started or []):  # seeds may have been added: only results know
        try:
            return sorted(int(s) for s in pd.read_csv(path / RESULTS_FILE, usecols=["seed"])["seed"].unique())
        except (OSError, ValueError, KeyError):
            pass
    return [int(s) for s in started] if isinstance(started, list) else []


def _seed_span(seeds: Sequence[int], sep: str) -> str:
    """Seeds as a reader scans them: a run of 3 or more consecutive seeds as ``0–6``, else listed."""
    if len(seeds) >= 3 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}–{seeds[-1]}"
    return sep.join(map(str, seeds))


def seeds_text(config: dict[str, Any], ran: Sequence[int], sep: str = ", ") -> str:
    """The seeds that ran, for the run list and headers. With seeds added until decided (``max_seeds``) it says
    how many were fixed and how many added, e.g. ``0–6 (3 fixed + 4 added until decided, limit 7)``: the seeds the
    run started with are not what the verdicts rest on."""
    fixed = [int(s) for s in config.get("seeds", []) or []]
    limit = int(config.get("max_seeds") or 0)
    if limit <= len(fixed):
        return sep.join(map(str, ran or fixed))
    added = len(ran) - len(fixed) if len(ran) >= len(fixed) else 0
    return f"{_seed_span(ran or fixed, sep)} ({len(fixed)} fixed + {added} added until decided, limit {limit})"


def run_seeds_text(run: Run, sep: str = ", ") -> str:
    """:func:`seeds_text` of a loaded run, from the seeds in its results."""
    ran = sorted(int(s) for s in run.results["seed"].unique()) if "seed" in run.results else []
    return seeds_text(
        run.meta.get("config", {}), ran or _seeds_ran(run.meta, run.meta.get("config", {}), run.path), sep
    )


def _id_matches(run_id: str, query: str) -> bool:
    """Whether ``query`` names ``run_id``: its start (the date, ``20261207-1635``), its end (the tail shown after
    a run, ``b400d2``) or whole parts of it (the time, ``163530``)."""
    return run_id.startswith(query) or run_id.endswith(query) or f"-{query}-" in f"-{run_id}-"


def resolve_run_id(run_id: str, root: str | Path | None = None) -> Path:
    """Folder of a run given its id, a unique prefix (date), tail (``b400d2``) or whole part (time) of it; the one
    resolver of the CLI, the Runs page and ``recaug.load_run``. RecaugInputError when none or several match."""
    folder = runs_dir(root)
    query = str(run_id).strip()
    entries = _entries(folder)
    exact = [p for p in entries if p.name == query]
    if exact:
        return exact[0]
    matches = [p for p in entries if _id_matches(p.name, query)] if query else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RecaugInputError(
            f"no run '{run_id}' in {folder}",
            fix="give the run id, its start (date and time) or its last 6 characters; see `python -m recaug runs list`",
        )
    shown = ", ".join(p.name for p in matches[:5]) + (f" and {len(matches) - 5} more" if len(matches) > 5 else "")
    raise RecaugInputError(
        f"'{run_id}' matches {len(matches)} runs ({shown})", fix="give more characters of the run id"
    )


def _read_csv(path: Path) -> pd.DataFrame | None:
    """An optional table of a run; an empty or unreadable one counts as absent (logged)."""
    if not path.exists():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError):
        logger.warning("ignoring unreadable %s", path, exc_info=True)
        return None


def load_run(run_id: str, root: str | Path | None = None) -> Run:
    """Reload a saved run by id (or unique id prefix); RecaugInputError saying why when it is damaged.

    Every file is checked against the manifest written at save (size and checksum), so a cut results.csv is
    damage, never a run that compares as NaN rows.
    """
    path = resolve_run_id(run_id, root)
    problem = run_problem(path, deep=True)
    if problem is None:
        try:
            return _read_run(path)
        except Exception as err:  # passed the checks yet does not read: still damage, never a traceback
            problem = f"it could not be read ({type(err).__name__}: {str(err)[:120]})"
    raise RecaugInputError(
        f"run {path.name} is damaged: {problem}",
        file=str(path),
        fix="delete it (`python -m recaug runs delete ID` or the Runs page), or restore the file",
    )


def _read_run(path: Path) -> Run:
    meta = json.loads((path / CONFIG_FILE).read_text())
    log_path = path / "llm_log.jsonl"
    try:
        llm_log = pd.read_json(log_path, orient="records", lines=True) if log_path.exists() else None
    except ValueError:
        llm_log = None
    synthetic_path = path / "synthetic.parquet"
    try:
        synthetic = pd.read_parquet(synthetic_path) if synthetic_path.exists() else pd.DataFrame()
    except (OSError, ValueError):
        logger.warning("ignoring unreadable %s", synthetic_path, exc_info=True)
        synthetic = pd.DataFrame()
    results = pd.read_csv(path / RESULTS_FILE)
    if meta.get("manifest"):
        saved = json.loads((path / MANIFEST_FILE).read_text())["files"][RESULTS_FILE].get("rows")
        if saved is not None and int(saved) != len(results):
            raise ValueError(f"{RESULTS_FILE} has {len(results)} rows but was saved with {saved}")
    return Run(
        run_id=path.name,
        path=path,
        meta=meta,
        results=results,
        synthetic=synthetic,
        significance=_read_csv(path / "significance.csv"),
        fidelity=_read_csv(path / "fidelity.csv"),
        llm_log=llm_log,
        chosen=_read_csv(path / SELECTION_FILE),
    )


def run_result(run: Run) -> ExperimentResult:
    """A saved run as an ExperimentResult of its tables (no fitted models, splits or per-user values), with how
    many seeds ran and why: what the report and the reopened dashboard read."""
    from recaug.evaluate.sequential import Stopping
    from recaug.experiment.result import chosen_table

    split = run_split(run)
    config = run.config
    return ExperimentResult(
        config=config,
        results=run.results,
        synthetic=run.synthetic,
        split=split if split is not None else pd.DataFrame(columns=["user_id", "item_id", "part", "seed"]),
        augment_info=list(run.meta.get("augment_info", []) or []),
        user_metrics={},
        timings=dict(run.meta.get("timings", {}) or {}),
        fingerprint=run.fingerprint,
        stopping=Stopping(tuple(config.seeds_run), config.stopped) if config.seeds_run and config.stopped else None,
        chosen=run.chosen if run.chosen is not None else chosen_table([]),
    )


def run_split(run: Run) -> pd.DataFrame | None:
    """The split table the run was evaluated on (user_id, item_id, part, seed), when it was saved."""
    path = run.path / SPLIT_FILE
    try:
        return pd.read_parquet(path) if path.exists() else None
    except (OSError, ValueError):
        return None


def datasets_dir(root: str | Path | None = None) -> Path:
    """Where prepared data is kept by fingerprint (:mod:`recaug.data.store`), inside the run store."""
    return runs_dir(root) / DATASETS


def run_dataset(run: Run, root: str | Path | None = None) -> Dataset:
    """The data a run used, from the data store by fingerprint (built-in data from its package)."""
    from recaug.data.store import load_saved_dataset

    return load_saved_dataset(run.fingerprint, datasets_dir(root))


def set_run_label(run_id: str, label: str, root: str | Path | None = None) -> Run:
    """Give a saved run a label (shown in lists); config.json is replaced atomically, never half-written."""
    run = load_run(run_id, root)
    meta = {**run.meta, "label": str(label).strip()}
    # A temporary file of its own: two labels saved at once never write into the same file.
    handle, name = tempfile.mkstemp(dir=run.path, prefix=f".{CONFIG_FILE}.", suffix=PARTIAL_SUFFIX)
    with os.fdopen(handle, "w") as file:
        file.write(json.dumps(meta, indent=2, sort_keys=True, default=str))
    os.replace(name, run.path / CONFIG_FILE)
    return load_run(run.run_id, root)


def delete_run(run_id: str, root: str | Path | None = None) -> str:
    """Remove a saved run's folder, or a stray file or link (a link is removed, never what it points to); returns
    the full id removed (``run_id`` may be a prefix or tail). The CLI's ``runs delete`` and the Runs page call it."""
    path = resolve_run_id(run_id, root)
    if _stray(path) is not None:
        path.unlink()
    else:
        shutil.rmtree(path)
    return path.name


# What else must match for two runs' numbers to be comparable (config key, words for it): another split protocol
# or its parameters is another test set; other cut-offs, metrics or primary question are other rows and verdicts.
COMPARABLE_SETTINGS: tuple[tuple[str, str], ...] = (
    ("protocol", "split protocol"),
    ("protocol_params", "split parameters"),
    ("ks", "cut-offs k"),
    ("metrics", "metrics"),
    ("primary", "primary question"),
)
# How the data was read, when a run recorded it (``load`` in config.json): another threshold or k-core is other data.
COMPARABLE_LOADING: tuple[tuple[str, str], ...] = (("rating_threshold", "rating threshold"), ("kcore", "k-core"))
MISSING = "–"  # a cell one run lacks, in tables people read (the dashboard's dash, never "None" or NaN)


def _setting_text(value: Any) -> str:
    """A setting as a reader sees it: lists joined, empty parameters as "defaults"."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "defaults"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
    return "not set" if value is None else str(value)


def comparability_warnings(run_a: Run, run_b: Run) -> list[str]:
    """Why the numbers of two runs do not compare like for like (empty when they do).

    Other data, another split protocol or its parameters mean other test users and items: a row side by side is
    then two different questions. Other cut-offs, metrics or primary question change which rows and verdicts exist.
    """
    warnings = []
    if run_a.fingerprint != run_b.fingerprint:
        warnings.append(
            f"different data: A {run_a.fingerprint or '?'} vs B {run_b.fingerprint or '?'} (fingerprints differ)"
        )
    config_a, config_b = run_a.config.to_dict(), run_b.config.to_dict()  # an older run's missing keys: defaults
    pairs = [(words, config_a.get(key), config_b.get(key)) for key, words in COMPARABLE_SETTINGS]
    load_a, load_b = run_a.meta.get("load"), run_b.meta.get("load")
    if isinstance(load_a, dict) and isinstance(load_b, dict):  # recorded by both: else the fingerprint speaks
        pairs += [(words, load_a.get(key), load_b.get(key)) for key, words in COMPARABLE_LOADING]
    for words, value_a, value_b in pairs:
        if _setting_text(value_a) != _setting_text(value_b):
            warnings.append(f"different {words}: A {_setting_text(value_a)} vs B {_setting_text(value_b)}")
    return warnings


def shared_arm_differences(run_a: Run, run_b: Run) -> list[str]:
    """How the arms both runs have were made differently (empty when alike): the method's own settings (denoise,
    ...), the seeds (fixed, or added until decided) and the budget or target. Such a row's A and B columns answer
    the same question under different settings, which the table alone does not show."""
    from recaug.core.variants import split_variant

    config_a, config_b = run_a.meta.get("config", {}), run_b.meta.get("config", {})
    shared = shared_arms(run_a, run_b)
    if not shared:
        return []
    differences = []
    for name in shared:
        method = split_variant(name)[0]
        params_a = (config_a.get("augmenter_params") or {}).get(method, {})
        params_b = (config_b.get("augmenter_params") or {}).get(method, {})
        if _setting_text(params_a) != _setting_text(params_b):
            differences.append(f"{name}'s settings A {_setting_text(params_a)} vs B {_setting_text(params_b)}")
    seeds_a, seeds_b = run_seeds_text(run_a), run_seeds_text(run_b)
    if seeds_a != seeds_b:
        seeds_a, seeds_b = (t if "until decided" in t else f"{t} (fixed)" for t in (seeds_a, seeds_b))
        differences.append(f"seeds A {seeds_a} vs B {seeds_b}")
    for key, words in (("budget", "budget"), ("target", "target")):
        value_a, value_b = config_a.get(key), config_b.get(key)
        if value_a != value_b:
            differences.append(f"{words} A {_budget_or_text(value_a)} vs B {_budget_or_text(value_b)}")
    return differences


def shared_arms(run_a: Run, run_b: Run) -> list[str]:
    """The arms (variant names) both runs compared, in run A's order."""
    names_b = set(run_b.meta.get("config", {}).get("augmenters", []))
    return [name for name in run_a.meta.get("config", {}).get("augmenters", []) if name in names_b]


def arm_difference_text(arms: Sequence[str], differences: Sequence[str]) -> str:
    """One sentence for the dashboard and the CLI: which shared arms were made differently, and how."""
    many = len(arms) > 1
    return (
        f"The arm{'s' if many else ''} both runs have ({', '.join(arms)}) {'were' if many else 'was'} not made the "
        f"same way: {'; '.join(differences)}. Their A and B rows answer the question under different settings."
    )


def _budget_or_text(value: Any) -> str:
    from recaug.core.variants import budget_label

    return (
        budget_label(value) if isinstance(value, int | float) and not isinstance(value, bool) else _setting_text(value)
    )


def shared_first(table: pd.DataFrame) -> pd.DataFrame:
    """A side-by-side table with the rows both runs have first (then A only, then B only), each group in its order:
    the rows a reader can compare are the ones to see first."""
    if "in" not in table.columns:
        return table
    rank = table["in"].map({"both": 0, "A only": 1, "B only": 2}).fillna(3)
    ordered = table.iloc[rank.argsort(kind="stable")].reset_index(drop=True)
    ordered.attrs = dict(table.attrs)
    return ordered


def comparison_attrs(run_a: Run, run_b: Run) -> dict[str, Any]:
    """What a side-by-side table of two runs carries in ``attrs``: ids, ``same_data`` and ``warnings``."""
    return {
        "run_a": run_a.run_id,
        "run_b": run_b.run_id,
        "same_data": run_a.fingerprint == run_b.fingerprint,
        "warnings": comparability_warnings(run_a, run_b),
        "shared_arms": shared_arms(run_a, run_b),
        "arm_differences": shared_arm_differences(run_a, run_b),
    }


def comparison_warning_text(warnings: list[str]) -> str:
    """One sentence for the dashboard and the CLI: what differs, and that the numbers are not like for like."""
    return (
        f"These runs are not like for like ({'; '.join(warnings)}): a row's A and B numbers come from different "
        "data, test sets or definitions, so they do not compare directly."
    )


def readable_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """A side-by-side table as text for people: counts (``k``, ``n_*``) as whole numbers, other numbers to four
    decimals (changes and intervals signed), and a cell one run lacks as a dash, so neither "None" (dashboard) nor
    NaN (CLI) shows."""
    shown = table.copy()
    for column in shown.columns:
        values = shown[column]
        name = str(column)
        if name == "k" or name.startswith("n_"):
            numbers = pd.to_numeric(values, errors="coerce")
            shown[column] = [MISSING if pd.isna(v) else f"{int(v)}" for v in numbers]
        elif pd.api.types.is_bool_dtype(values):
            shown[column] = values.astype(str)
        elif pd.api.types.is_numeric_dtype(values):
            signed = name.startswith(("delta", "ci_"))  # a change and its interval read with their sign
            shown[column] = [MISSING if pd.isna(v) else f"{float(v):{'+' if signed else ''}.4f}" for v in values]
        else:
            shown[column] = [MISSING if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in values]
    shown.attrs = dict(table.attrs)
    return shown


COLUMN_LABELS = {
    "value": "mean",
    "delta": "Δ",
    "ci_low": "interval low",
    "ci_high": "interval high",
    "mde": "detectable ±",
    "q_ttest": "q (BH)",
    "n_seeds": "seeds",
    "n_users": "users",
}


def comparison_labels(columns: Sequence[str]) -> dict[str, str]:
    """Headers for people, as the Compare page names the same numbers: ``delta_a`` -> 'Δ A', ``n_seeds_b`` ->
    'seeds B', ``delta`` (B - A) -> 'Δ (B - A)'; other columns keep their names."""
    labels = {}
    for column in map(str, columns):
        stem, _, side = column.rpartition("_")
        if side in ("a", "b") and stem:
            labels[column] = f"{COLUMN_LABELS.get(stem, stem.replace('_', ' '))} {side.upper()}"
        elif column == "delta":
            labels[column] = "Δ (B - A)"
    return labels


def compare_runs(a: str, b: str, root: str | Path | None = None) -> pd.DataFrame:
    """Results of two runs side by side (mean over seeds): model, variant, slice, metric, k, value_a, value_b, delta.

    Rows present in only one run keep NaN on the other side. ``frame.attrs`` holds both run ids, ``same_data``
    (equal data fingerprints) and ``warnings`` (:func:`comparability_warnings`: other data, split protocol or its
    parameters, cut-offs, metrics); comparing such runs is allowed but flagged.
    """
    run_a, run_b = load_run(a, root), load_run(b, root)
    keys = ["model", "variant", "slice", "metric", "k"]

    def mean(run: Run) -> pd.DataFrame:
        return run.results.groupby(keys, as_index=False)["value"].mean()

    merged = mean(run_a).merge(mean(run_b), on=keys, how="outer", suffixes=("_a", "_b"))
    merged["delta"] = merged["value_b"] - merged["value_a"]
    merged = merged.sort_values(keys, kind="stable").reset_index(drop=True)
    merged.attrs.update(comparison_attrs(run_a, run_b))
    for warning in merged.attrs["warnings"]:
        logger.info("comparing runs %s and %s: %s", run_a.run_id, run_b.run_id, warning)  # callers show it
    return merged


@dataclass
class RecordedComparison:
    """What :func:`record_comparison` produced: the fidelity table, files written, and the saved run."""

    fidelity: pd.DataFrame
    written: list[Path]
    run: Run | None


def record_comparison(
    dataset: Dataset,
    result: ExperimentResult,
    *,
    out: str | Path | None = None,
    save: bool = True,
    root: str | Path | None = None,
    llm_log: pd.DataFrame | None = None,
    significance: pd.DataFrame | None = None,
    label: str = "",
    progress: ProgressFn | None = None,
) -> RecordedComparison:
    """After a comparison: compute fidelity, write ``out/fidelity.csv`` and ``out/report.html``, save the run.

    The CLI and the dashboard both call this, so a run looks the same whichever started it. Fidelity
    failures become error rows (see :mod:`recaug.analysis.fidelity`), never a lost run.
    """
    from recaug.analysis.fidelity import fidelity_for_experiment
    from recaug.reporting.report import build_report, write_report

    report = progress or no_progress
    if result.fidelity is not None and llm_log is None:  # computed while the fits ran (run_experiment(fidelity=))
        fidelity = result.fidelity
    else:
        fidelity = fidelity_for_experiment(dataset, result, llm_log=llm_log, progress=sub_progress(report, 0.0, 0.7))
    if significance is None:  # the run folder and the report both state CIs and p-values
        significance = significance_table(result)
    run = (
        save_run(
            result,
            fidelity=fidelity,
            significance=significance,
            llm_log=llm_log,
            label=label,
            root=root,
            dataset=dataset,
        )
        if save
        else None
    )
    written: list[Path] = []
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "fidelity.csv"
        path.write_bytes(to_csv_bytes(fidelity))
        written.append(path)
        report(0.8, "writing the HTML report")
        html = build_report(
            result, dataset=dataset, fidelity=fidelity, significance=significance, run_id=run.run_id if run else None
        )
        written.append(write_report(folder / "report.html", html))
    report(1.0, "run recorded" if run is not None else "files written (not saved as a run)")
    return RecordedComparison(fidelity=fidelity, written=written, run=run)


def describe_run(run: Run) -> str:
    """Plain-text summary of a run for ``python -m recaug runs show``: config, before/after table, fidelity."""
    from recaug.analysis.fidelity import fidelity_wide
    from recaug.experiment import compare_table

    lines = [
        *_run_header(run),
        f"fingerprint {run.fingerprint}  source files {', '.join(run.meta.get('sources', []) or []) or '(built-in)'}"
        f"  synthetic rows {len(run.synthetic)}",
        "",
        "before vs after (mean over seeds, slice all):",
    ]
    table = compare_table(run.results) if len(run.results) else pd.DataFrame()
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        lines.append(table.to_string(index=False, float_format="{:.4f}".format) if len(table) else "  (no rows)")
        if run.significance is not None:
            lines += ["", "significance:", run.significance.to_string(index=False, float_format="{:.4f}".format)]
        if run.fidelity is not None:
            lines += ["", "fidelity:", fidelity_wide(run.fidelity).to_string(float_format="{:.4f}".format)]
    if notes := run_choice_notes(run):
        lines += ["", "chosen on validation (selection.csv):", *(f"  {line}" for line in notes)]
    return "\n".join(lines)


def _run_header(run: Run) -> list[str]:
    """The lines that head ``runs show`` (short and ``--full``): id, data, the protocol with its parameters, seeds,
    models, arms, the budget in words and the target."""
    from recaug.core.variants import budget_words
    from recaug.data.splits import protocol_summary

    config = run.meta.get("config", {})
    protocol = config.get("protocol", "?")
    try:
        worded = f" ({protocol_summary(protocol, config.get('protocol_params'))})"
    except (RecaugInputError, KeyError, ValueError):  # a protocol or parameters this version does not know
        worded = ""
    budget = config.get("budget")
    return [
        f"run {run.run_id}  created {run.meta.get('created', '?')}  {run.meta.get('label', '')}".rstrip(),
        f"data {run.meta.get('data_name') or config.get('data', '?')}  protocol {protocol}{worded}",
        f"seeds {run_seeds_text(run)}  models {_text(config.get('models'), ', ')}  "
        f"arms {_text(config.get('augmenters'), ', ')}",
        f"budget {budget_words(budget) if isinstance(budget, int | float) else budget}  "
        f"target {_text(config.get('target'), ', ')}",
        f"folder {run.path}",
    ]


def run_summary(run: Run, *, full_command: str = "") -> str:
    """What ``runs show`` prints by default: the run's header lines, its primary verdicts (as the CLI printed them
    after the run) and its notes; ``full_command`` (the flag that prints :func:`describe_run`) is named last."""
    from recaug.evaluate.significance import verdict_summary, weak_baseline_warning

    config = run.meta.get("config", {})
    lines = [*_run_header(run), ""]
    if run.significance is not None and len(run.significance):
        stopping = run_result(run).stopping
        lines.append(
            verdict_summary(
                run.significance, stopping=stopping.sentence() if stopping else "", protocol=str(config.get("protocol"))
            )
        )
    else:
        lines.append("no significance table saved (run with 2 or more seeds for verdicts)")
    if weak := weak_baseline_warning(run.results):
        lines.append(f"warning: {weak}")
    lines += [f"note: {line}" for line in run_choice_notes(run)]
    if full_command:
        lines += ["", f"settings, before/after, significance and fidelity tables: {full_command}"]
    return "\n".join(lines)


def deletion_question(path: Path) -> str:
    """``ID (created ..., data ...)``: how ``runs delete`` names a run when it asks before deleting it."""
    meta = _meta_or_empty(path)
    config = meta.get("config", {}) if isinstance(meta.get("config"), dict) else {}
    data = meta.get("data_name") or config.get("data") or "?"
    return f"{path.name} (created {meta.get('created', '?')}, data {data})"


def run_choice_notes(run: Run) -> list[str]:
    """What validation chose in a saved run, one line per model as the Compare page says it
    (:func:`recaug.experiment.result.chosen_notes`), for the Runs page and ``runs show``.

    A run saved before runs kept selection.csv, with a model that chooses on validation, gets one line saying so
    instead (its choices are unknown, not absent); empty when no model chose anything.
    """
    from recaug.experiment.result import chosen_notes
    from recaug.models import MODELS

    if run.chosen is not None and len(run.chosen):
        return chosen_notes(run.chosen)
    models = run.config.models
    choosing = [m for m in models if m in MODELS and MODELS.get(m).selects_on_validation]
    if run.meta.get(SELECTION_RECORDED) or not choosing:
        return []
    return [
        f"What validation chose for {', '.join(choosing)} (epochs, grid points) is not recorded for this run: it "
        "was saved by an earlier version, before runs kept these choices. Open it in the dashboard and run the "
        "comparison again to record them."
    ]


def run_report(run: Run) -> str:
    """The HTML report of a saved run, from its saved tables: the one builder the CLI uses after a run, without the
    histograms (they need the data and a refit split; the run store keeps the tables)."""
    from recaug.reporting.report import build_report  # the report imports nothing from the run store

    result = run_result(run)
    significance = run.significance if run.significance is not None else significance_table(result)
    return build_report(result, fidelity=run.fidelity, significance=significance, run_id=run.run_id)
