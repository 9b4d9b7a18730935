"""Write an experiment's tables to a folder (CLI) or to bytes (download buttons), spreadsheet-safe."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from recaug.data.prepare import PrepareReport
from recaug.experiment import ExperimentResult

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a quote (CSV injection)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            text = out[column].astype("string")
            risky = text.str.startswith(_FORMULA_PREFIXES).fillna(False)
            if risky.any():
                out[column] = text.where(~risky, "'" + text)
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV for download buttons, with formula-like cells neutralised."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8")


def write_experiment(result: ExperimentResult, out: Path, *, prepare_report: PrepareReport | None = None) -> list[Path]:
    """results.csv, augmented.csv, split.csv and config.json; returns the written paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    tables = {
        "results.csv": result.results,
        "augmented.csv": result.synthetic,
        "split.csv": result.split,
    }
    for name, frame in tables.items():
        path = out / name
        path.write_bytes(to_csv_bytes(frame))
        written.append(path)
    config = {
        **result.config.to_dict(),
        "data_fingerprint": result.fingerprint,
        "augment_info": result.augment_info,
        "prepare": asdict(prepare_report) if prepare_report else None,
    }
    path = out / "config.json"
    path.write_text(json.dumps(config, indent=2, sort_keys=True, default=str))
    written.append(path)
    return written
