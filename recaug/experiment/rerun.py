"""Rerun a saved comparison from its ``config.json`` (an ``--out`` folder's, or a run store's).

The configuration is the recorded :class:`ExperimentConfig`; the data is found again and must have the recorded
fingerprint, so a rerun is the same experiment on the same data or it does not start. Where the data comes from,
in order: ``data`` given by the caller (the file moved), the reading arguments the CLI recorded (``load``), then
the run store's copy of the prepared data (how dashboard runs are found again).
"""

from __future__ import annotations

import inspect
import json
from dataclasses import asdict, dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.data.prepare import PrepareReport
from recaug.data.readers import PYTHON, Caller
from recaug.experiment.config import ExperimentConfig

CONFIG_FILE = "config.json"
LOAD_KEY = "load"  # the CLI's reading arguments (load_dataset's keyword arguments), recorded in config.json


@dataclass(frozen=True)
class SavedComparison:
    """What a config.json says: the experiment, the data fingerprint and (when recorded) how the data was read."""

    config: ExperimentConfig
    fingerprint: str
    load: dict[str, Any] | None
    path: Path


def read_saved(path: str | Path) -> SavedComparison:
    """Read a config.json (or the folder holding one); RecaugInputError naming the file when it is not one."""
    file = Path(path)
    file = file / CONFIG_FILE if file.is_dir() else file
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RecaugInputError(
            f"cannot read {file.name} ({type(err).__name__})",
            file=str(file),
            fix="give the config.json of an --out folder or of a saved run (`recaug runs show ID` prints its folder)",
        ) from None
    stored = record.get("config") if isinstance(record, dict) else None
    settings = stored if isinstance(stored, dict) else record  # run store: nested under "config"; --out: flat
    if not isinstance(settings, dict) or "data_fingerprint" not in record:
        raise RecaugInputError(
            "this file is not the config.json of a comparison (no data fingerprint)",
            file=str(file),
            fix="give the config.json written next to results.csv, or one from the run store",
        )
    known = {f.name for f in fields(ExperimentConfig)}
    load = record.get(LOAD_KEY)
    return SavedComparison(
        config=ExperimentConfig(**{k: v for k, v in settings.items() if k in known}),
        fingerprint=str(record["data_fingerprint"]),
        load=load if isinstance(load, dict) else None,
        path=file,
    )


def load_arguments(data: str, **reading: Any) -> dict[str, Any]:
    """The record of how the CLI read its data (a file path made absolute, so a rerun works from any folder)."""
    from recaug.data.builtin import BUILTIN

    source = data if data in BUILTIN or not Path(data).exists() else str(Path(data).resolve())
    recorded: dict[str, Any] = {}
    for key, value in reading.items():
        recorded[key] = asdict(value) if is_dataclass(value) and not isinstance(value, type) else value
    if isinstance(reading.get("items"), str):
        recorded["items"] = str(Path(reading["items"]).resolve())
    return {"data": source, **recorded}


def _load(arguments: dict[str, Any], caller: Caller) -> tuple[Dataset, PrepareReport]:
    from recaug.data.loading import load_dataset
    from recaug.data.regional import RegionalFormat

    accepted = set(inspect.signature(load_dataset).parameters)
    kwargs = {k: v for k, v in arguments.items() if k in accepted and k not in ("data", "caller")}
    if isinstance(kwargs.get("regional"), dict):
        kwargs["regional"] = RegionalFormat(**kwargs["regional"])
    return load_dataset(str(arguments["data"]), **kwargs, caller=caller)


def saved_dataset(
    saved: SavedComparison,
    *,
    runs_dir: str | Path | None = None,
    data: str | None = None,
    caller: Caller = PYTHON,
) -> tuple[Dataset, PrepareReport | None]:
    """The data of a saved comparison with its recorded fingerprint; RecaugInputError saying what was tried.
    ``caller`` words how a reading error says to fix it (the CLI's flags for ``compare --config``)."""
    from recaug.data.store import load_saved_dataset
    from recaug.reporting.runs import datasets_dir

    tried: list[str] = []
    sources = []
    if data is not None:
        sources.append({**(saved.load or {}), "data": data})
    elif saved.load is not None:
        sources.append(saved.load)
    for arguments in sources:
        try:
            dataset, report = _load(arguments, caller)
        except RecaugInputError as err:
            tried.append(f"{arguments['data']}: {err}")
            continue
        if dataset.fingerprint() == saved.fingerprint:
            return dataset, report
        tried.append(f"{arguments['data']} has fingerprint {dataset.fingerprint()}")
    if data is None:
        try:
            return load_saved_dataset(saved.fingerprint, datasets_dir(runs_dir)), None
        except RecaugInputError as err:
            tried.append(f"the run store: {err}")
    raise RecaugInputError(
        f"the data of this run (fingerprint {saved.fingerprint}) was not found: {'; '.join(tried) or 'nothing'}",
        file=str(saved.path),
        fix="pass the original data file with --data PATH (it must be the same data: the fingerprint is checked)",
    )
