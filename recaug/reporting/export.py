"""Write an experiment's tables to a folder (CLI) or to bytes (download buttons), spreadsheet-safe."""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from recaug.core.secrets import redact_secrets
from recaug.data.prepare import PrepareReport
from recaug.data.schema import (
    CONFIDENCE,
    ISO_DATE,
    ISO_DATETIME,
    ITEM,
    ORIGIN,
    POLARITY,
    RATING,
    REAL,
    TIMESTAMP,
    UNIX_SECONDS,
    USER,
)
from recaug.evaluate.significance import significance_table
from recaug.experiment import ExperimentResult, without_removed
from recaug.experiment.cost import cost_table

if TYPE_CHECKING:
    from recaug.augment.base import AugmentResult
    from recaug.data.dataset import Dataset

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a quote (CSV injection).

    Every text column is treated alike, ids included: an item id ``=HYPERLINK(...)`` is as dangerous as a
    title. Numbers written as text ('-5', '+1.5e3') are left as they are: a spreadsheet reads those as numbers,
    never as formulas. The exact values go to the Parquet files written alongside (:func:`write_experiment`).
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            text = out[column].astype("string")
            risky = text.str.startswith(_FORMULA_PREFIXES).fillna(False)
            risky &= pd.to_numeric(text.where(risky), errors="coerce").isna()
            if risky.any():
                out[column] = text.where(~risky, "'" + text)
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV for download buttons, with formula-like cells neutralised."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8")


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet for downloads and the run store: typed, and no spreadsheet runs it, so values stay as they are."""
    import pyarrow as pa

    buffer = io.BytesIO()
    try:
        frame.to_parquet(buffer, index=False)
    except (pa.ArrowException, TypeError, ValueError):
        # Mixed-type object columns (lists, dicts from a log) are kept as text rather than failing the export.
        buffer = io.BytesIO()
        text = {c: "string" for c in frame.columns if frame[c].dtype == object}
        frame.astype(text).to_parquet(buffer, index=False)
    return buffer.getvalue()


_ISO_STYLES = {ISO_DATETIME: "%Y-%m-%dT%H:%M:%SZ", ISO_DATE: "%Y-%m-%d"}


def timestamps_as_given(frame: pd.DataFrame, form: str = UNIX_SECONDS) -> pd.DataFrame:
    """``frame`` with its ``timestamp`` column (Unix seconds inside) written the way the user's file wrote it
    (``Dataset.timestamp_form``), so a file written for the user reads, and joins back to their data, as theirs did:
    numbers stay numbers; dates become ISO 8601 in UTC, ``2021-03-04T10:00:00Z``, or ``2021-03-04`` when no row of
    the file had a time of day. A row without a time (a synthetic row) stays empty. Every writer of rows with
    timestamps calls this one function."""
    if form not in _ISO_STYLES or TIMESTAMP not in frame.columns:
        return frame
    seconds = pd.to_numeric(frame[TIMESTAMP], errors="coerce").astype("Float64")
    text = pd.to_datetime(seconds, unit="s", utc=True).dt.strftime(_ISO_STYLES[form]).astype("string")
    return frame.assign(**{TIMESTAMP: text})


def augmented_training_data(
    train: pd.DataFrame, synthetic: pd.DataFrame, timestamp_form: str = UNIX_SECONDS
) -> pd.DataFrame:
    """Training split plus synthetic rows in canonical columns; every row has ``origin`` and ``confidence``.

    Real rows keep rating/timestamp with origin "real" and confidence 1; synthetic rows have no rating. Columns of
    whole numbers (Unix-second timestamps, whole ratings) stay integers where synthetic rows leave them empty, even
    when the split holds them as floats, so a CSV reads ``880415766``, not ``880415766.0``. Timestamps are written
    in ``timestamp_form``, the form of the user's file (:func:`timestamps_as_given`). A column empty on every row
    (``prompt_id`` of a method that writes no prompts, a rating the data lacks) is left out.
    """
    columns = [USER, ITEM, RATING, TIMESTAMP, ORIGIN, CONFIDENCE]
    columns += [c for c in ("prompt_id", "seed", POLARITY) if c in synthetic.columns]
    real = train.reindex(columns=columns)
    real[ORIGIN] = real[ORIGIN].fillna(REAL)
    real[CONFIDENCE] = real[CONFIDENCE].fillna(1.0)
    if POLARITY in columns:  # LLM negatives are disliked pairs, not training edges: the column says which is which
        real[POLARITY] = 1
        synthetic = synthetic.assign(**{POLARITY: synthetic[POLARITY].fillna(1).astype(int)})
    frames = [frame for frame in (real, synthetic.reindex(columns=columns)) if len(frame)]
    out = pd.concat(frames, ignore_index=True) if frames else real
    for column in (RATING, TIMESTAMP):
        if column in train.columns and _whole_numbers(out[column]):
            out[column] = out[column].astype("Int64")
    empty = [c for c in out.columns if c not in (USER, ITEM, ORIGIN, CONFIDENCE) and _empty(out[c])]
    return timestamps_as_given(out.drop(columns=empty), timestamp_form)


def _whole_numbers(values: pd.Series) -> bool:
    """Whether a numeric column holds only whole numbers (missing values aside), so it can be written as integers."""
    if pd.api.types.is_integer_dtype(values):
        return True
    if not pd.api.types.is_float_dtype(values):
        return False
    present = values.dropna()
    return bool(len(present)) and bool((present == present.round()).all() and present.abs().max() < 2**53)


def _empty(values: pd.Series) -> bool:
    """No value on any row: missing, or blank text."""
    return bool(values.isna().all() or values.astype("string").fillna("").str.strip().eq("").all())


def arm_training_data(dataset: Dataset, train: pd.DataFrame, result: AugmentResult) -> pd.DataFrame:
    """One method's arm as Compare trains it: the training split minus the edges the method removed, plus its own
    synthetic rows (negatives kept with ``polarity`` -1). Never several methods mixed: that is no arm at all."""
    return augmented_training_data(without_removed(dataset, train, result.removed), result.rows, dataset.timestamp_form)


def llm_log_jsonl(logs: list[pd.DataFrame]) -> bytes:
    """LLM provenance logs as JSON lines, one call per line (id lists stay JSON arrays, NaN becomes null)."""
    if not logs:
        return b""
    frame = pd.concat(logs, ignore_index=True)
    return frame.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")


EXACT_TWINS = ("augmented.csv", "split.csv")  # tables of ids, also written as Parquet with the ids verbatim
SELECTION_FILE = "selection.csv"  # what validation chose per fit (ExperimentResult.chosen), in --out and a saved run


def write_experiment(
    result: ExperimentResult,
    out: Path,
    *,
    prepare_report: PrepareReport | None = None,
    extra: dict[str, Any] | None = None,
) -> list[Path]:
    """results/significance/augmented/split/cost CSVs, selection.csv (where a model chose on validation),
    augmented/split Parquet (exact ids), config.json (and llm_log.jsonl); returns the paths.

    ``extra``: more keys for config.json (the CLI records how it read the data, so ``--config`` can rerun it).
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    tables = {
        "results.csv": result.results,
        "significance.csv": significance_table(result),
        "augmented.csv": result.synthetic,
        "split.csv": result.split,
        "cost.csv": cost_table(result),
    }
    if len(result.chosen):  # a model chose on validation (a BPR's epoch, a grid's point)
        tables[SELECTION_FILE] = result.chosen
    else:  # an earlier run's choices, left in a reused folder, would read as this run's
        (out / SELECTION_FILE).unlink(missing_ok=True)
    for name, frame in tables.items():
        path = out / name
        path.write_bytes(to_csv_bytes(frame))
        written.append(path)
    # The CSVs quote ids a spreadsheet would run ('=cmd'); the Parquet twins keep every id exactly as read.
    for name in EXACT_TWINS:
        path = out / name.replace(".csv", ".parquet")
        path.write_bytes(to_parquet_bytes(tables[name]))
        written.append(path)
    if result.logs:
        path = out / "llm_log.jsonl"
        path.write_bytes(llm_log_jsonl(result.logs))
        written.append(path)
    config = {
        **redact_secrets(result.config.to_dict()),
        "data_fingerprint": result.fingerprint,
        "augment_info": redact_secrets(result.augment_info),
        "prepare": asdict(prepare_report) if prepare_report else None,
        **redact_secrets(extra or {}),
    }
    path = out / "config.json"
    path.write_text(json.dumps(config, indent=2, sort_keys=True, default=str))
    written.append(path)
    return written
