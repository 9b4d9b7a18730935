"""Read interaction and item files (CSV or Parquet) into canonical DataFrames.

Every problem raises :class:`RecaugInputError` naming the file, row and column,
so the UI can show the message and keep the previously loaded data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from recaug.data.schema import ALIASES, ITEM, RATING, TIMESTAMP, USER, detect_columns
from recaug.errors import RecaugInputError

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
_DELIMITERS = [",", "\t", ";", "|"]

Source = str | Path | bytes


def _load_bytes(source: Source, name: str, max_bytes: int) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.exists():
            raise RecaugInputError("file not found", file=name, fix="check the path")
        if path.stat().st_size > max_bytes:
            raise _too_large(name, path.stat().st_size, max_bytes)
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise _too_large(name, len(data), max_bytes)
    if not data.strip():
        raise RecaugInputError("the file is empty", file=name, fix="upload a file with a header row and data rows")
    return data


def _too_large(name: str, size: int, max_bytes: int) -> RecaugInputError:
    return RecaugInputError(
        f"the file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit",
        file=name,
        fix="upload a sample of the file, or convert it to Parquet",
    )


def _is_parquet(data: bytes, name: str) -> bool:
    return data[:4] == b"PAR1" or name.lower().endswith((".parquet", ".pq"))


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise RecaugInputError(
            f"the file is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line})",
            file=name,
            row=line,
            fix="save the file as UTF-8 (in Excel: 'CSV UTF-8'), then upload it again",
        ) from None


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        return max(_DELIMITERS, key=header.count)


def read_table(source: Source, *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> pd.DataFrame:
    """Read a CSV/TSV (delimiter detected) or Parquet file with every column as text."""
    label = name or (Path(source).name if not isinstance(source, bytes) else "upload")
    data = _load_bytes(source, label, max_bytes)
    if _is_parquet(data, label):
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as err:  # pyarrow raises many types; all mean "not readable"
            raise RecaugInputError(
                f"could not read it as Parquet ({err})", file=label, fix="export the file again as Parquet or CSV"
            ) from None
        return frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object})
    text = _decode(data, label)
    delimiter = _sniff_delimiter(text)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as err:
        raise RecaugInputError(
            f"the rows do not have a consistent number of columns ({err})",
            file=label,
            fix="check for unquoted delimiters inside values",
        ) from None
    if frame.empty:
        raise RecaugInputError("the file has a header but no data rows", file=label, fix="add data rows")
    if frame.shape[1] == 1:
        raise RecaugInputError(
            f"only one column was found ('{frame.columns[0]}')",
            file=label,
            fix="use a comma, tab, semicolon or | between columns, with a header row such as user_id,item_id,rating",
        )
    frame.columns = [str(c).split(":")[0].strip() for c in frame.columns]
    return frame


def _row_of(index_label: object) -> int:
    """File line of a data row: header is line 1."""
    return int(index_label) + 2  # type: ignore[call-overload]


def _ids(frame: pd.DataFrame, column: str, name: str) -> pd.Series:
    values = frame[column].astype("string").str.strip()
    missing = values.isna() | (values == "")
    if missing.any():
        first = missing[missing].index[0]
        raise RecaugInputError(
            f"{int(missing.sum())} row(s) have no id",
            file=name,
            row=_row_of(first),
            column=column,
            fix="fill in or remove rows with an empty id",
        )
    # '12.0' from spreadsheets and '12' must be the same id.
    return values.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True).astype(str)


def _numeric(frame: pd.DataFrame, column: str, name: str) -> pd.Series:
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    _reject_unparsed(
        raw,
        values.isna() & raw.notna(),
        "is not a number",
        file=name,
        column=column,
        fix="make the column numeric, or map a different column (or none) to it",
    )
    return values.astype(float)


def _timestamps(frame: pd.DataFrame, column: str, name: str) -> pd.Series:
    raw = frame[column]
    numeric = pd.to_numeric(raw, errors="coerce")
    if numeric.notna().sum() == raw.notna().sum():
        return numeric.fillna(0).astype("int64")
    parsed = pd.to_datetime(raw, errors="coerce", utc=True)
    _reject_unparsed(
        raw,
        parsed.isna() & raw.notna(),
        "is neither a Unix time nor a date",
        file=name,
        column=column,
        fix="use Unix seconds or ISO dates (2024-01-31), or map no timestamp column",
    )
    return ((parsed - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).fillna(0).astype("int64")


def _reject_unparsed(raw: pd.Series, bad: pd.Series, problem: str, *, file: str, column: str, fix: str) -> None:
    """One message for values that did not parse: the first bad value, its row, and how many rows have one."""
    if not bad.any():
        return
    first = bad[bad].index[0]
    raise RecaugInputError(
        f"value '{raw[first]}' {problem} ({int(bad.sum())} such row(s))",
        file=file,
        row=_row_of(first),
        column=column,
        fix=fix,
    )


def _require_column(found: Mapping[str, str], canonical: str, frame: pd.DataFrame, name: str, hint: str = "") -> None:
    """A clear error when no column of ``frame`` was recognised as ``canonical`` (``hint`` ends the fix)."""
    if canonical in found:
        return
    raise RecaugInputError(
        f"no {canonical} column found among {', '.join(map(str, frame.columns))}",
        file=name,
        column=canonical,
        fix=f"name a column one of ({_expected(canonical)}){hint}",
    )


def _expected(canonical: str) -> str:
    return ", ".join([canonical, *ALIASES[canonical][:4]])


def interactions_from_frame(
    frame: pd.DataFrame, *, name: str, mapping: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Validate a raw table and return canonical interactions (user_id, item_id[, rating][, timestamp])."""
    found = detect_columns(frame.columns, overrides=mapping)
    for canonical, column in found.items():
        if column not in frame.columns:
            raise RecaugInputError(
                f"the mapped column '{column}' for {canonical} does not exist "
                f"(columns: {', '.join(map(str, frame.columns))})",
                file=name,
                column=column,
                fix="pick one of the file's columns",
            )
    for required in (USER, ITEM):
        _require_column(found, required, frame, name, " or choose the mapping by hand")
    if found[USER] == found[ITEM]:
        raise RecaugInputError(
            "user_id and item_id are mapped to the same column",
            file=name,
            column=found[USER],
            fix="map them to different columns",
        )
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame({USER: _ids(frame, found[USER], name), ITEM: _ids(frame, found[ITEM], name)})
    if RATING in found:
        out[RATING] = _numeric(frame, found[RATING], name)
    if TIMESTAMP in found:
        out[TIMESTAMP] = _timestamps(frame, found[TIMESTAMP], name)
    return out


def read_interactions(
    source: Source,
    *,
    name: str | None = None,
    mapping: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> pd.DataFrame:
    """Read an interactions file; see :func:`interactions_from_frame` for the checks."""
    return _read_with(interactions_from_frame, source, name=name, mapping=mapping, max_bytes=max_bytes)


def items_from_frame(frame: pd.DataFrame, *, name: str, mapping: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Canonical items (item_id, title, text, extra columns kept); text falls back to title."""
    found = detect_columns(frame.columns, wanted=(ITEM, "title", "text"), overrides=mapping)
    _require_column(found, ITEM, frame, name)
    if "title" not in found and "text" not in found:
        raise RecaugInputError(
            "no title or text column found",
            file=name,
            fix="add a 'title' or 'description' column so items can be read by the text encoder",
        )
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame({ITEM: _ids(frame, found[ITEM], name)})
    title = frame[found["title"]] if "title" in found else frame[found["text"]].astype(str).str.slice(0, 80)
    text = frame[found["text"]] if "text" in found else title
    out["title"] = title.fillna("").astype(str).to_numpy()
    out["text"] = text.fillna("").astype(str).to_numpy()
    used = set(found.values())
    for column in frame.columns:
        if column not in used and column not in out.columns:
            out[column] = frame[column].to_numpy()
    return out.drop_duplicates(ITEM, keep="first").reset_index(drop=True)


def read_items(
    source: Source,
    *,
    name: str | None = None,
    mapping: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> pd.DataFrame:
    """Read an items file with an id and a title and/or text column."""
    return _read_with(items_from_frame, source, name=name, mapping=mapping, max_bytes=max_bytes)


def _read_with(
    parse: Callable[..., pd.DataFrame],
    source: Source,
    *,
    name: str | None,
    mapping: Mapping[str, str] | None,
    max_bytes: int,
) -> pd.DataFrame:
    """Read ``source`` as a table and hand it to ``parse``; messages name the file (or "upload" for bytes)."""
    label = name or (Path(source).name if not isinstance(source, bytes) else "upload")
    return parse(read_table(source, name=label, max_bytes=max_bytes), name=label, mapping=mapping)


def empty_items(item_ids: np.ndarray) -> pd.DataFrame:
    """Items table for data without item text: the id doubles as title and text."""
    ids = pd.Series(item_ids, dtype=str)
    return pd.DataFrame({ITEM: ids, "title": ids, "text": ids})
