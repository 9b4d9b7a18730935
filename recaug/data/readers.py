"""Read interaction and item files (CSV/TSV/'::'/Parquet/JSON lines, plain, gzip or zip) into canonical DataFrames.

Every problem raises :class:`RecaugInputError` naming the file, row and column,
so the UI can show the message and keep the previously loaded data. Text tables are parsed by
pyarrow (columnar, multi-threaded); '::' files, whose delimiter pyarrow cannot take, by a split that
puts a '::' inside a title back together.
"""

from __future__ import annotations

import csv
import functools
import html
import io
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import numpy as np
import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.data import sniff
from recaug.data.json_tables import looks_like_json, read_json_table
from recaug.data.layouts import INTERACTION_LAYOUTS, ITEM_LAYOUTS, Layout, match_layout
from recaug.data.regional import AUTO, RegionalFormat, RegionalSettingError, decimal_commas, parse_dates
from recaug.data.schema import (
    ALIASES,
    INTERACTION_COLUMNS,
    ISO_DATE,
    ISO_DATETIME,
    ITEM,
    POLARITY,
    RATING,
    TIMESTAMP,
    UNIX_SECONDS,
    USER,
    detect_columns,
    normalise_name,
)

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
# Ratings beyond this are refused: they are overflowed or sentinel values, and they break means and thresholds.
MAX_ABS_RATING = 1e9
NOTES = "recaug_notes"  # frame.attrs key: things the reader did that the user should know
TIMESTAMP_FORM = "recaug_timestamp_form"  # frame.attrs key: how the file wrote its timestamps (schema.UNIX_SECONDS...)

Source = str | Path | bytes
_UNIT = b"\x1f"  # ASCII unit separator: stands in for a multi-character delimiter in the pyarrow fast path
_STRING = pd.StringDtype("pyarrow")
REGIONAL = RegionalFormat()  # detect day/month order and decimal commas
ITEM_COLUMNS = (ITEM, "title", "text")
_KNOWN_NAMES = {alias for aliases in ALIASES.values() for alias in aliases} | {"userid", "itemid"}


class LineLocator:
    """Finds the file line of a data row, on the error path only (blank lines and quoted newlines included)."""

    def __init__(self, text: bytes, delimiter: str, header: bool) -> None:
        self._text, self._delimiter, self._header = text, delimiter, header

    def __deepcopy__(self, memo: dict[int, Any]) -> LineLocator:
        return self  # frame.attrs are deep-copied by pandas; the text never changes

    def records(self) -> Any:
        """(first line, fields) of every non-blank record, the header included."""
        text = self._text.decode("utf-8", errors="replace")
        if len(self._delimiter) > 1:
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    yield number, line.split(self._delimiter)
            return
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self._delimiter)
        previous = 0
        try:
            for fields in reader:
                if fields:
                    yield previous + 1, fields
                previous = reader.line_num
        except csv.Error:
            return

    def line(self, row: int) -> int:
        """File line (1-based) where data row ``row`` (0-based, header excluded) starts."""
        target = row + int(self._header)
        for count, (number, _) in enumerate(self.records()):
            if count == target:
                return number
        return target + 1


def _row_of(frame: pd.DataFrame, index_label: object) -> int:
    """File line of a data row (falls back to header-on-line-1 for frames that were not read from text)."""
    locator = frame.attrs.get("locator")
    row = int(index_label)  # type: ignore[call-overload]
    if isinstance(locator, LineLocator):
        return locator.line(row)
    return row + int(frame.attrs.get("row_offset", 1 + int(frame.attrs.get("header", True))))


_F = TypeVar("_F", bound=Callable[..., pd.DataFrame])


def _memory_guarded(read: _F) -> _F:
    """Out of memory while reading becomes one clear message naming the file, never an ArrowMemoryError."""

    @functools.wraps(read)
    def guarded(*args: Any, **kwargs: Any) -> pd.DataFrame:
        try:
            return read(*args, **kwargs)
        except MemoryError as err:  # pyarrow's ArrowMemoryError is a MemoryError
            raise RecaugInputError(
                f"there was not enough memory to read it ({type(err).__name__})",
                file=kwargs.get("name") or "the file",
                fix="upload a sample of the file, or convert it to Parquet; on the command line, close other "
                "programs or use a machine with more memory",
            ) from None

    return cast(_F, guarded)


def _label(source: Source, name: str | None) -> str:
    """What messages call the file: the given name, else the file's name ("upload" for bytes)."""
    return name or (Path(source).name if not isinstance(source, bytes) else "upload")


def _load_bytes(source: Source, name: str, max_bytes: int) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise RecaugInputError("file not found", file=name, fix="check the path")
        data = path.read_bytes()  # no size limit on disk: memory, not the upload limit, bounds what can be read
    if isinstance(source, bytes) and len(data) > max_bytes:
        raise _too_large(name, len(data), max_bytes)
    if not data.strip():
        raise RecaugInputError("the file is empty", file=name, fix="upload a file with a header row and data rows")
    return data


def _too_large(name: str, size: int, max_bytes: int) -> RecaugInputError:
    return RecaugInputError(
        f"the file is {sniff.megabytes(size)}, over the {sniff.megabytes(max_bytes)} limit",
        file=name,
        fix="upload a sample of the file, gzip it, or convert it to Parquet",
    )


def _is_parquet(data: bytes, name: str) -> bool:
    return data[:4] == b"PAR1" or name.lower().endswith((".parquet", ".pq"))


def _read_parquet(data: bytes, name: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as err:  # pyarrow raises many types; all mean "not readable"
        raise RecaugInputError(
            f"could not read it as Parquet ({type(err).__name__}: {str(err)[:200]})",
            file=name,
            fix="export the file again as Parquet or CSV",
        ) from None
    notes: list[str] = []
    frame.columns, duplicates = _header_names([str(c) for c in frame.columns], name, notes)
    # Every column as text, like CSV columns: the checks below parse ids, ratings and times the same way.
    frame = frame.astype(
        {c: _STRING for c in frame.columns if not pd.api.types.is_datetime64_any_dtype(frame[c])}, errors="ignore"
    )
    frame.attrs.update(header=True, notes=notes, duplicates=duplicates)
    return frame


def _header_names(fields: Sequence[str], name: str, notes: list[str]) -> tuple[list[str], dict[str, str]]:
    """Unique column names; a repeated name is renamed (``rating_2``) with a note, and the renames are returned
    so detection never silently picks one of two columns of the same name."""
    names, duplicates = sniff.unique_column_names(fields)
    for renamed, original in duplicates.items():
        notes.append(f"{name}: a second column is named '{original}'; it is read as '{renamed}'")
    return names, duplicates


@_memory_guarded
def read_table(
    source: Source,
    *,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    header: bool | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a text table or Parquet file with every column as text.

    ``header``: None detects whether the first line names the columns; False reads it as data.
    ``columns`` names the columns in file order (replacing a header row when there is one).
    ``frame.attrs[NOTES]`` lists what the user should know (encoding, header guess, delimiter).
    """
    label = _label(source, name)
    raw = _load_bytes(source, label, max_bytes)
    # The size limit is the browser's upload limit and applies to what an upload unpacks to; a file read from
    # disk (CLI, benchmarks) may be any size, and unpack to ten times its size.
    limit = max_bytes if isinstance(source, bytes) else max(max_bytes, sniff.DECOMPRESSED_FACTOR * len(raw))
    data, label = sniff.unpack(raw, label, limit)
    if not data.strip():
        raise RecaugInputError("the file is empty", file=label, fix="upload a file with a header row and data rows")
    if _is_parquet(data, label):
        frame = _read_parquet(data, label)
        return _rename(frame, columns, label) if columns else frame
    sniff.refuse_other_formats(data, label)
    decoded = sniff.decode(data, label)
    notes = [f"{label}: {decoded.note}"] if decoded.note else []
    if looks_like_json(decoded.content):
        frame = read_json_table(decoded.content, label)
        frame.attrs["notes"] = [*notes, *frame.attrs["notes"]]
        return _rename(frame, columns, label) if columns else frame
    lines = sniff.sample_lines(decoded.content[: 256 * 1024].decode("utf-8", errors="ignore"))
    delimiter = sniff.sniff_delimiter(lines)
    records = sniff.split_records(lines, delimiter)
    if max((len(r) for r in records), default=0) < 2:
        raise RecaugInputError(
            f"only one column was found ('{lines[0][:60] if lines else ''}')",
            file=label,
            fix="use a comma, tab, semicolon or | (or ::) between columns, with a header row such as "
            "user_id,item_id,rating",
        )
    has_header = sniff.looks_like_header(records, _KNOWN_NAMES) if header is None else header
    width = len(records[0]) if has_header else Counter(len(r) for r in records).most_common(1)[0][0]
    names, duplicates = (
        _header_names(records[0], label, notes) if has_header else ([f"column_{i}" for i in range(1, width + 1)], {})
    )
    if header is None and not has_header:
        notes.append(
            f"{label}: the first line holds data, not column names; columns are taken by position (user, item, "
            "rating, timestamp): change the mapping on Home, or name them with --columns (CLI)"
        )
    if len(delimiter) > 1:
        notes.append(f"{label}: columns separated by {sniff.DELIMITER_NAMES[delimiter]}")
    locator = LineLocator(decoded.content, delimiter, has_header)
    if len(delimiter) > 1:
        frame = _split_multichar(decoded.content, delimiter, names, has_header, label, locator)
    else:
        frame = _parse_csv(decoded.content, delimiter, names, has_header, label, locator)
    if frame.empty:
        raise RecaugInputError("the file has a header but no data rows", file=label, fix="add data rows")
    frame.attrs.update(header=has_header, notes=notes, locator=locator, delimiter=delimiter, duplicates=duplicates)
    return _rename(frame, columns, label) if columns else frame


def _rename(frame: pd.DataFrame, columns: Sequence[str], name: str) -> pd.DataFrame:
    """Name the columns in file order (``--columns``); the count must match."""
    wanted = [c.strip() for c in columns]
    if len(wanted) != frame.shape[1]:
        raise RecaugInputError(
            f"{len(wanted)} column names were given ({', '.join(wanted)}) but the file has {frame.shape[1]} columns",
            file=name,
            fix=f"give {frame.shape[1]} names, in file order",
        )
    notes = [n for n in frame.attrs.get("notes", []) if "a second column is named" not in n]
    frame.columns, duplicates = _header_names(wanted, name, notes)
    frame.attrs.update(notes=notes, duplicates=duplicates)
    return frame


def _mismatch(locator: LineLocator, width: int, name: str, has_header: bool) -> RecaugInputError:
    """The first record whose field count differs from the header's (or the first line's), by file line."""
    for number, fields in locator.records():
        if len(fields) != width:
            against = "the header has" if has_header else "the first line has"
            return RecaugInputError(
                f"line {number} has {len(fields)} fields but {against} {width}",
                file=name,
                row=number,
                fix="quote values that contain the delimiter, or fix the header so it names every column",
            )
    return RecaugInputError(
        "the rows do not have a consistent number of columns",
        file=name,
        fix="check for unquoted delimiters inside values",
    )


def _parse_csv(
    content: bytes,
    delimiter: str,
    names: list[str],
    has_header: bool,
    name: str,
    locator: LineLocator,
    *,
    quoted: bool = True,
) -> pd.DataFrame | None:
    """pyarrow's multi-threaded parse; a row with another field count is refused by line (None when not
    ``quoted``: the '::' fast path then falls back to the splitter that mends titles)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    invalid: list[int] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row.number or 0)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(content),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=int(has_header), block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"' if quoted else False,
                newlines_in_values=quoted and b'"' in content,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in names},
                null_values=[""],  # 'NA', 'null' or 'nan' can be ids; only an empty cell is missing
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except MemoryError:
        raise
    except (pa.ArrowInvalid, pa.ArrowException) as err:
        raise RecaugInputError(
            f"the table could not be parsed ({str(err).splitlines()[0][:200]})",
            file=name,
            fix="check for an unclosed quote or unquoted delimiters inside values",
        ) from None
    if invalid:
        if not quoted:
            return None
        raise _mismatch(locator, len(names), name, has_header)
    return table.to_pandas(types_mapper={pa.string(): _STRING}.get)


def _split_multichar(
    content: bytes, delimiter: str, names: list[str], has_header: bool, name: str, locator: LineLocator
) -> pd.DataFrame:
    """Split on a multi-character delimiter; a line with extra fields has the delimiter inside its text column.

    Fast path: the delimiter becomes a control character that pyarrow can parse (1M-line ratings.dat files);
    when some line has another field count, the exact splitter below reads the file.
    """
    if _UNIT not in content:
        frame = _parse_csv(
            content.replace(delimiter.encode(), _UNIT), _UNIT.decode(), names, has_header, name, locator, quoted=False
        )
        if frame is not None:
            return frame
    lines = [line for line in content.decode("utf-8").splitlines() if line.strip()]
    rows = [line.split(delimiter) for line in lines[int(has_header) :]]
    width = len(names)
    short = [r for r in rows if len(r) < width]
    if short:
        raise _mismatch(locator, width, name, has_header)
    long = [i for i, r in enumerate(rows) if len(r) > width]
    if long:
        text_column = _text_position([r for r in rows[:1000] if len(r) == width], names)
        for i in long:
            fields = rows[i]
            extra = len(fields) - width
            merged = delimiter.join(fields[text_column : text_column + extra + 1])
            rows[i] = [*fields[:text_column], merged, *fields[text_column + extra + 1 :]]
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    return frame.astype(_STRING)


def _text_position(rows: list[list[str]], names: list[str]) -> int:
    """The column holding free text, where a stray delimiter belongs: a title column by name, else the most
    worded column (non-numeric, then most spaces: titles have spaces, genre lists rarely do)."""
    titles = set(ALIASES["title"])
    for position, column in enumerate(names):
        if normalise_name(column) in titles:
            return position
    if not rows:
        return 1 if len(names) > 1 else 0

    def score(position: int) -> tuple[float, float]:
        values = [r[position] for r in rows]
        text_share = sum(not sniff.is_number(v) for v in values) / len(values)
        return text_share, float(np.mean([v.count(" ") for v in values]))

    return max(range(len(names)), key=score)


def _arrow(series: pd.Series) -> Any:
    """The column as a pyarrow string array, surrounding whitespace removed and empty cells null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = series if isinstance(series.dtype, pd.StringDtype) else series.astype(_STRING)
    array = pa.chunked_array(values.array._pa_array) if hasattr(values.array, "_pa_array") else pa.array(values)
    array = pc.utf8_trim_whitespace(array.cast(pa.string()))
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _from_arrow(array: Any) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(array) if array.num_chunks else [], dtype=_STRING)


def _ids(frame: pd.DataFrame, column: str, name: str) -> pd.Series:
    import pyarrow.compute as pc

    array = _arrow(frame[column])
    if array.null_count:
        missing = _from_arrow(array).isna()
        first, count = missing[missing].index[0], int(missing.sum())
        raise RecaugInputError(
            f"{count:,} {'row has' if count == 1 else 'rows have'} no id",
            file=name,
            row=_row_of(frame, first),
            column=column,
            fix="fill in or remove rows with an empty id",
        )
    # '12.0' from spreadsheets and '12' must be the same id; '0012' stays '0012' (zero-padded ids are ids).
    if pc.any(pc.match_substring(array, ".0")).as_py():
        array = pc.replace_substring_regex(array, r"^(-?\d+)\.0+$", r"\1")
    return _from_arrow(array).astype(str)


def _floats(
    frame: pd.DataFrame, column: str, regional: RegionalFormat, notes: list[str]
) -> tuple[pd.Series, pd.Series]:
    """(text, numbers) of a column: numbers are NaN where the text is empty or is not a number.

    Decimal commas (``4,5``) are numbers where ``regional`` allows them (:func:`decimal_commas`); a note says so.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = _arrow(frame[column])
    raw = _from_arrow(array)
    try:
        return raw, pd.Series(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # some cell is not a number: find them one by one
        values = pd.to_numeric(raw.astype(object), errors="coerce").astype(float)
    fixed = decimal_commas(raw.where(values.isna()), regional, frame.attrs.get("delimiter"))
    if fixed is not None:
        converted = pd.to_numeric(fixed, errors="coerce").astype(float)
        values = values.fillna(converted)
        first = converted.first_valid_index()
        if first is not None:
            notes.append(
                f"column '{column}': decimal commas read as decimal points ('{raw[first]}' is {values[first]:g})"
            )
    return raw, values


def _numeric(
    frame: pd.DataFrame, column: str, name: str, regional: RegionalFormat = REGIONAL, notes: list[str] | None = None
) -> pd.Series:
    raw, values = _floats(frame, column, regional, [] if notes is None else notes)
    comma = "" if regional.decimal != AUTO else ", or, if it writes decimal commas (4,5), {decimal}"
    _reject_unparsed(
        frame,
        raw,
        values.isna() & raw.notna(),
        "is not a number",
        file=name,
        column=column,
        fix=f"make the column numeric, or map a different column (or none) to it{comma}",
        error=RegionalSettingError if comma else RecaugInputError,
    )
    _reject_unparsed(
        frame,
        raw,
        ~np.isfinite(values.fillna(0)) | (values.abs() > MAX_ABS_RATING),
        f"is infinite or beyond ±{MAX_ABS_RATING:.0e}",
        file=name,
        column=column,
        fix="remove or correct these rows (they are overflowed or placeholder values)",
    )
    return values


# Unix times by magnitude: seconds up to year 5138, then milliseconds (Amazon Reviews 2023), then microseconds.
_TIME_UNITS = ((1e11, 1, ""), (1e14, 1_000, "milliseconds"), (1e17, 1_000_000, "microseconds"))


def _timestamps(
    frame: pd.DataFrame, column: str, name: str, regional: RegionalFormat = REGIONAL, notes: list[str] | None = None
) -> tuple[pd.Series, str]:
    """(Unix seconds, how the file wrote them: schema.UNIX_SECONDS, ISO_DATETIME or ISO_DATE)."""
    notes = [] if notes is None else notes
    raw, numeric = _floats(frame, column, REGIONAL, notes)
    fix = "use Unix seconds or ISO dates (2024-01-31), or map no timestamp column"
    if numeric.notna().sum() == raw.notna().sum():
        bad = ~np.isfinite(numeric.fillna(0)) | (numeric.abs() >= _TIME_UNITS[-1][0])
        _reject_unparsed(frame, raw, bad, "is not a Unix time", file=name, column=column, fix=fix)
        typical = float(numeric.abs().median()) if numeric.notna().any() else 0.0
        _, divisor, unit = next(u for u in _TIME_UNITS if typical < u[0])
        if unit:
            notes.append(f"column '{column}': Unix times in {unit} (e.g. {raw.dropna().iloc[0]}), read as seconds")
        return (numeric.fillna(0) / divisor).astype("int64"), UNIX_SECONDS
    parsed = parse_dates(raw, regional, file=name, column=column, row_of=lambda label: _row_of(frame, label))
    bad = parsed.isna() & raw.notna()
    if regional.dates != AUTO:
        fix = f"the dates were read as {regional.dates}: check that setting (or use ISO dates, 2024-01-31)"
    _reject_unparsed(frame, raw, bad, "is neither a Unix time nor a date", file=name, column=column, fix=fix)
    seconds = ((parsed - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).fillna(0).astype("int64")
    return seconds, _date_form(raw, parsed)


def _date_form(raw: pd.Series, parsed: pd.Series) -> str:
    """ISO_DATE when no value wrote a time of day (every date at midnight, no 'hh:mm'), else ISO_DATETIME."""
    present = parsed.dropna()
    midnight = bool((present == present.dt.normalize()).all())
    if midnight and not raw.dropna().astype(object).astype(str).str.contains(r"\d:\d\d|T\d").any():
        return ISO_DATE
    return ISO_DATETIME


def _reject_unparsed(
    frame: pd.DataFrame,
    raw: pd.Series,
    bad: pd.Series,
    problem: str,
    *,
    file: str,
    column: str,
    fix: str,
    error: type[RecaugInputError] = RecaugInputError,
) -> None:
    """One message for values that did not parse: the first bad value, its row, and how many rows have one
    (``error``: :class:`RegionalSettingError` when ``fix`` names a regional setting)."""
    bad = bad.fillna(False).astype(bool)
    if not bad.any():
        return
    first = bad[bad].index[0]
    count = int(bad.sum())
    raise error(
        f"value '{str(raw[first])[:60]}' {problem} ({count:,} such {'row' if count == 1 else 'rows'})",
        file=file,
        row=_row_of(frame, first),
        column=column,
        fix=fix,
    )


# Who is loading the data, so a message says how to map a column where it is read: the dashboard's mapping boxes
# (Home), the CLI's flags, or the Python arguments of load_dataset / recaug.compare.
Caller = Literal["home", "cli", "python"]
HOME: Caller = "home"
CLI: Caller = "cli"
PYTHON: Caller = "python"
ITEM_COLUMN_KEYS = (ITEM, "title", "text")  # what --item-columns / item_columns= may map


def _guess(frame: pd.DataFrame, found: Mapping[str, str], wanted: Sequence[str]) -> dict[str, str]:
    """canonical -> column for a mapping example: what was found, the missing ``wanted`` names on the first
    columns nothing was found for (the usual user, item order)."""
    guess = dict(found)
    free = iter(c for c in map(str, frame.columns) if c not in found.values())
    for canonical in wanted:
        if canonical not in guess:
            guess[canonical] = next(free, canonical)
    return guess


def how_to_map(frame: pd.DataFrame, found: Mapping[str, str], *, items: bool, caller: Caller) -> str:
    """How the caller names the columns recaug did not recognise, with this file's columns as the example: the one
    place a mapping error's fix is worded (the dashboard's boxes, the CLI's flags, Python's arguments)."""
    if items:
        guess = _guess(frame, found, (ITEM, "title") if frame.shape[1] > 1 else (ITEM,))
        pairs = {key: guess[key] for key in (ITEM, "title") if key in guess}
        if caller == CLI:
            return "map the items file's columns with --item-columns, e.g. --item-columns " + ",".join(
                f"{key}={column}" for key, column in pairs.items()
            )
        if caller == PYTHON:
            return f"pass item_columns={pairs!r}"
        return "choose the item id column under the items file on Home"
    guess = _guess(frame, found, (USER, ITEM))
    if caller == CLI:
        names = {column: canonical for canonical, column in guess.items()}
        example = ",".join(names.get(str(c), str(c)) for c in frame.columns)
        return f"name the file's columns in order with --columns, e.g. --columns {example}"
    if caller == PYTHON:
        return f"pass mapping={ {key: guess[key] for key in (USER, ITEM)}!r}"
    return "choose the columns under Column mapping on Home"


def _require_column(
    found: Mapping[str, str], canonical: str, frame: pd.DataFrame, name: str, *, items: bool, caller: Caller
) -> None:
    """A clear error when no column of ``frame`` was recognised as ``canonical``, saying how the caller maps it."""
    if canonical in found:
        return
    raise RecaugInputError(
        f"no {canonical} column found among {', '.join(map(str, frame.columns))}",
        file=name,
        column=canonical,
        fix=f"name a column one of ({_expected(canonical)}), or {how_to_map(frame, found, items=items, caller=caller)}",
    )


def _expected(canonical: str) -> str:
    return ", ".join([canonical, *ALIASES[canonical][:4]])


def positional_mapping(frame: pd.DataFrame) -> dict[str, str]:
    """For a file without a header: user, item, then rating and timestamp if those columns are numbers.

    This is the layout of MovieLens, Netflix-prize and most '::' or tab exports.
    """
    columns = list(map(str, frame.columns))
    mapping = dict(zip((USER, ITEM), columns, strict=False))
    sample = frame.head(200)
    for canonical, column in zip((RATING, TIMESTAMP), columns[2:4], strict=False):
        values = pd.to_numeric(sample[column].astype(_STRING).str.strip(), errors="coerce")
        if values.notna().mean() > 0.9 or canonical == TIMESTAMP:
            mapping[canonical] = column
    return mapping


def interaction_mapping(frame: pd.DataFrame, mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """canonical -> column: detected from header names, by position for header-less files; ``mapping`` wins."""
    if frame.attrs.get("header", True) is False:
        detected = positional_mapping(frame)
        detected.update({k: v for k, v in (mapping or {}).items() if v})
        return detected
    return _detect(frame, INTERACTION_COLUMNS, mapping, INTERACTION_LAYOUTS)


def _repeated(frame: pd.DataFrame) -> set[str]:
    """Columns whose name the header repeats: the first one and its renamed copies (``rating``, ``rating_2``)."""
    duplicates = frame.attrs.get("duplicates") or {}
    return set(duplicates) | set(duplicates.values())


def _detect(
    frame: pd.DataFrame, wanted: Sequence[str], mapping: Mapping[str, str] | None, layouts: tuple[Layout, ...]
) -> dict[str, str]:
    """Detection by header names: a known public layout's columns first (``mapping`` wins over both), leaving out
    repeated names (which of two 'rating' columns is meant would be a guess)."""
    repeated = _repeated(frame)
    columns = [str(c) for c in frame.columns if c not in repeated]
    layout = match_layout(columns, layouts)
    chosen: dict[str, str] = {}
    if layout is not None:
        for canonical, normalised in ((ITEM, layout.item), ("title", layout.title), (RATING, layout.rating)):
            column = layout.column(columns, normalised) if normalised and canonical in wanted else None
            if column is not None:
                chosen[canonical] = column
    chosen.update({k: v for k, v in (mapping or {}).items() if v})
    return detect_columns(columns, wanted=wanted, overrides=chosen)


def _layout_note(frame: pd.DataFrame, layouts: tuple[Layout, ...], name: str) -> tuple[Layout | None, list[str]]:
    """The public layout ``frame`` has (or None) and a note naming it."""
    layout = match_layout(frame.columns, layouts)
    return layout, ([f"{name}: recognised as {layout.name}"] if layout is not None else [])


def _refuse_repeated(
    frame: pd.DataFrame, found: Mapping[str, str], wanted: Sequence[str], name: str, *, caller: Caller
) -> None:
    """A clear error when a column the data needs is one of two columns with the same name and nobody chose."""
    duplicates = frame.attrs.get("duplicates") or {}
    for original in dict.fromkeys(duplicates.values()):
        for canonical in detect_columns([original], wanted=wanted):
            if canonical in found:
                continue
            copies = [original, *(k for k, v in duplicates.items() if v == original)]
            positions = ", ".join(str(list(frame.columns).index(c) + 1) for c in copies)
            raise RecaugInputError(
                f"{len(copies)} columns are named '{original}' (columns {positions}); which one holds the "
                f"{canonical} is unclear",
                file=name,
                column=original,
                fix="rename one in the file, or "
                + how_to_map(frame, found, items=wanted == ITEM_COLUMNS, caller=caller),
            )


def _check_mapped(found: Mapping[str, str], frame: pd.DataFrame, name: str) -> None:
    for canonical, column in found.items():
        if column not in frame.columns:
            raise RecaugInputError(
                f"the mapped column '{column}' for {canonical} does not exist "
                f"(columns: {', '.join(map(str, frame.columns))})",
                file=name,
                column=column,
                fix="pick one of the file's columns",
            )


@_memory_guarded
def interactions_from_frame(
    frame: pd.DataFrame,
    *,
    name: str,
    mapping: Mapping[str, str] | None = None,
    regional: RegionalFormat = REGIONAL,
    caller: Caller = PYTHON,
) -> pd.DataFrame:
    """Validate a raw table and return canonical interactions (user_id, item_id[, rating][, timestamp]).

    ``regional`` says how dates and decimals are written (default: detected). An optional ``polarity`` column
    (explicit negatives) is kept as a number. ``caller`` (HOME, CLI, PYTHON) words how an error says to map a
    column.
    """
    found = interaction_mapping(frame, mapping)
    _check_mapped(found, frame, name)
    _refuse_repeated(frame, found, INTERACTION_COLUMNS, name, caller=caller)
    for required in (USER, ITEM):
        _require_column(found, required, frame, name, items=False, caller=caller)
    if found[USER] == found[ITEM]:
        raise RecaugInputError(
            "user_id and item_id are mapped to the same column",
            file=name,
            column=found[USER],
            fix="map them to different columns",
        )
    attrs = dict(frame.attrs)
    frame = frame.reset_index(drop=True)
    frame.attrs.update(attrs)
    layout, layout_notes = _layout_note(frame, INTERACTION_LAYOUTS, name)
    notes = [*attrs.get("notes", []), *layout_notes]
    out = pd.DataFrame({USER: _ids(frame, found[USER], name), ITEM: _ids(frame, found[ITEM], name)})
    if RATING in found:
        out[RATING] = _numeric(frame, found[RATING], name, regional, notes)
        if layout is not None and layout.zero_means_unrated and normalise_name(found[RATING]) == layout.rating:
            out[RATING] = _unrated_zeros(out[RATING], layout, found[RATING], notes)
    else:
        notes.extend(_unmapped_ratings(frame, found))
    if TIMESTAMP in found:
        out[TIMESTAMP], form = _timestamps(frame, found[TIMESTAMP], name, regional, notes)
        out.attrs[TIMESTAMP_FORM] = form
    else:
        notes.extend(_unmapped_dates(frame, found, regional))
    if POLARITY in frame.columns and POLARITY not in found.values():
        out[POLARITY] = _numeric(frame, POLARITY, name)
    out.attrs[NOTES] = notes
    return out


_DATES_SAMPLE = 1_000  # rows a column's values are tried as dates on (the first ones)
_DATES_SHARE = 0.95  # "(almost) every row": the share of those rows that must be dates
# A date carries a year or is day/month/year digits: '10:30' (a time of day) or 'May' are not dates of events.
_DATE_SHAPE = r"(?:^|\D)(?:1[89]|2\d)\d\d(?:\D|$)|^\s*\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"


def _unmapped_dates(frame: pd.DataFrame, found: Mapping[str, str], regional: RegionalFormat) -> list[str]:
    """A note for each column that holds dates on (almost) every row but is mapped to nothing, when no column is
    the timestamp: temporal protocols need one, and 'watched_on' or 'purchase_day' are no name detection knows."""
    mapped = {*found.values(), POLARITY}
    notes = []
    for column in frame.columns:
        if column in mapped:
            continue
        text = _from_arrow(_arrow(frame[column].head(_DATES_SAMPLE)))
        needed = _DATES_SHARE * len(text)
        shaped = text.dropna()
        shaped = shaped[(shaped.str.len() <= 40) & shaped.str.contains(_DATE_SHAPE)]  # a cheap test before parsing
        if not len(shaped) or len(shaped) < needed:
            continue
        if pd.to_numeric(shaped.astype(object), errors="coerce").notna().any():
            continue  # numbers (a year, an id, a Unix time) are not taken for dates
        try:
            parsed = parse_dates(shaped, regional, file="", column=str(column), row_of=lambda label: 0)
        except RecaugInputError:  # day/month order undecided or mixed: dates all the same
            parsed = pd.Series(pd.Timestamp(0, tz="UTC"), index=shaped.index)
        if parsed.notna().sum() >= needed:
            notes.append(_map_dates_hint(frame, found, str(column)))
    return notes


# Words in a column's name that say it holds ratings; a file's own name for its rating ('My Rating', 'stars_given')
# that detection does not know (walk 13: 'My Rating' was dropped and the data read as implicit feedback, unsaid).
_RATING_WORDS = ("rating", "stars", "score", "grade")


def _unmapped_ratings(frame: pd.DataFrame, found: Mapping[str, str]) -> list[str]:
    """A note for each column whose name says ratings and whose values are numbers, when no column is the rating:
    the data is then read as implicit feedback and a rating threshold is refused."""
    mapped = {*found.values(), POLARITY}
    notes = []
    for column in frame.columns:
        if column in mapped or not any(word in normalise_name(str(column)) for word in _RATING_WORDS):
            continue
        values = frame[column].head(_DATES_SAMPLE)
        numbers = pd.to_numeric(values.astype(str).str.replace(",", ".", regex=False), errors="coerce")
        if len(values) and numbers.notna().mean() >= _DATES_SHARE:
            notes.append(
                f"{_map_hint(frame, found, str(column), RATING, 'ratings', 'rating')} to use its values (without one "
                "every row counts as an interaction, and a rating threshold is refused)"
            )
    return notes


def _map_hint(frame: pd.DataFrame, found: Mapping[str, str], column: str, as_name: str, what: str, choice: str) -> str:
    """How to map ``column`` as ``as_name``: the CLI's --columns (every column in file order, this one renamed) and
    the dashboard's column mapping."""
    canonical = {file_column: name for name, file_column in found.items()}
    names = [as_name if c == column else canonical.get(str(c), str(c)) for c in frame.columns]
    return (
        f"column '{column}' looks like {what} but is not read as the {choice}; map it (CLI: --columns "
        f"{','.join(names)}; dashboard: the {choice} choice under Column mapping on Home)"
    )


def _map_dates_hint(frame: pd.DataFrame, found: Mapping[str, str], column: str) -> str:
    """How to map ``column`` as the timestamp (:func:`_map_hint`), for temporal protocols."""
    return f"{_map_hint(frame, found, column, TIMESTAMP, 'dates', 'timestamp')} to use temporal protocols"


def _unrated_zeros(ratings: pd.Series, layout: Layout, column: str, notes: list[str]) -> pd.Series:
    """Ratings with the layout's 0 = "not rated" rows made missing: they stay interactions (implicit feedback)
    and a rating threshold, which keeps rows rated at or above it, drops them."""
    zero = ratings == 0
    if zero.any():
        notes.append(
            f"in {layout.name}, '{column}' 0 means the user did not rate the item: {int(zero.sum()):,} of "
            f"{len(ratings):,} rows have no rating; they count as interactions (implicit feedback), and a rating "
            "threshold drops them"
        )
    return ratings.mask(zero)


@_memory_guarded
def read_interactions(
    source: Source,
    *,
    name: str | None = None,
    mapping: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    header: bool | None = None,
    columns: Sequence[str] | None = None,
    regional: RegionalFormat = REGIONAL,
    caller: Caller = PYTHON,
) -> pd.DataFrame:
    """Read an interactions file; see :func:`read_table` and :func:`interactions_from_frame`."""
    label = _label(source, name)
    table = read_table(source, name=label, max_bytes=max_bytes, header=header, columns=columns)
    return interactions_from_frame(table, name=label, mapping=mapping, regional=regional, caller=caller)


# Columns whose values are prose: they go into an item's text without a "Label:" prefix.
_PROSE = {"text", "description", "desc", "overview", "plot", "summary", "content", "abstract", "synopsis"}


def readable(value: object) -> str:
    """A cell as prose: MovieLens lists ``a|b|c`` become ``a, b, c``, HTML entities (``&amp;``) characters;
    placeholders become empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = str(value).strip()
    if text.lower() in ("(no genres listed)", "nan", "none", "null", "<na>"):
        return ""
    if "|" in text:
        text = ", ".join(part.strip() for part in text.split("|") if part.strip())
    for _ in range(2):  # scraped titles are often escaped twice: 'God&amp;#39;s' is "God's"
        if "&" not in text:
            break
        text = html.unescape(text)
    return text


def describe_item(title: str, fields: Mapping[str, object]) -> str:
    """An item's text as encoders and LLMs read it: "Title. Genres: a, b. Its description."

    The items file's rows and the What-if page's new item are both described by this one function, so a new
    item is written like the catalog.
    """
    parts: list[str] = []
    for column, value in [("", title), *fields.items()]:
        text = readable(value)
        if not text:
            continue
        key = normalise_name(column)
        plain = not column or key in _PROSE or key.startswith("column")  # header-less files have no label to show
        parts.append(text if plain else f"{str(column).replace('_', ' ').capitalize()}: {text}")
    if len(parts) <= 1:  # a lone title or description is kept as written
        return parts[0] if parts else ""
    return ". ".join(part.rstrip(".") for part in parts) + "."


def descriptive_columns(frame: pd.DataFrame, exclude: Sequence[str]) -> list[str]:
    """Columns that describe an item in words (genres, description, tags): mostly non-numeric, not links."""
    chosen = []
    for column in frame.columns:
        if column in exclude:
            continue
        values = frame[column].dropna().astype(str).str.strip().head(500)
        values = values[values != ""]
        if values.empty:
            continue
        # Lists of ids ("884306, 234, 472443", a JSON list of similar items) are numbers, not words.
        numeric = (pd.to_numeric(values, errors="coerce").notna() | values.str.fullmatch(r"[\d\s,;.|-]+")).mean()
        links = values.str.match(r"^(https?://|www\.)").mean()
        if numeric < 0.5 and links < 0.5:
            chosen.append(str(column))
    return chosen


def default_text_columns(frame: pd.DataFrame, exclude: Sequence[str]) -> list[str]:
    """The columns that make an item's text by default: a known layout's (categories, features, description),
    else every worded column (:func:`descriptive_columns`)."""
    layout = match_layout(frame.columns, ITEM_LAYOUTS)
    if layout is None:
        return descriptive_columns(frame, exclude)
    found = (layout.column(map(str, frame.columns), name) for name in layout.text)
    return [c for c in found if c is not None and c not in exclude]


def item_mapping(frame: pd.DataFrame, mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """item_id / title / text columns detected from the header (``mapping`` wins); by position without a header."""
    if frame.attrs.get("header", True) is False:
        detected = dict(zip((ITEM, "title"), map(str, frame.columns), strict=False))
        detected.update({k: v for k, v in (mapping or {}).items() if v})
        return detected
    return _detect(frame, ITEM_COLUMNS, mapping, ITEM_LAYOUTS)


@_memory_guarded
def items_from_frame(
    frame: pd.DataFrame,
    *,
    name: str,
    mapping: Mapping[str, str] | None = None,
    text_columns: Sequence[str] | None = None,
    caller: Caller = PYTHON,
) -> pd.DataFrame:
    """Canonical items (item_id, title, text, extra columns kept).

    ``text`` is the title plus every descriptive column (``text_columns``, default: genres, description and
    any other worded column), written by :func:`describe_item`. Duplicate ids keep their first row and are
    counted in ``attrs[NOTES]``. ``caller`` words how an error says to map a column.
    """
    found = item_mapping(frame, mapping)
    _check_mapped(found, frame, name)
    _refuse_repeated(frame, found, ITEM_COLUMNS, name, caller=caller)
    _require_column(found, ITEM, frame, name, items=True, caller=caller)
    attrs = dict(frame.attrs)
    frame = frame.reset_index(drop=True)
    frame.attrs.update(attrs)
    if text_columns is None:
        text_columns = default_text_columns(frame, [found[ITEM], found.get("title", "")])
    missing = [c for c in text_columns if c not in frame.columns]
    if missing:
        _check_mapped({"text": missing[0]}, frame, name)
    if "title" not in found and not text_columns:
        raise RecaugInputError(
            "no title or text column found",
            file=name,
            fix="add a 'title' or 'description' column so items can be read by the text encoder",
        )
    ids = _ids(frame, found[ITEM], name)
    fields = frame[list(text_columns)].astype(object).where(frame[list(text_columns)].notna(), "")
    records = fields.to_dict("records")
    if "title" in found:
        title = frame[found["title"]].astype(object).where(frame[found["title"]].notna(), "").astype(str)
        text = [describe_item(t, r) for t, r in zip(title.tolist(), records, strict=True)]
    else:  # no title: the description is the text, and its start the title
        text = [describe_item("", r) for r in records]
        title = pd.Series(text).str.slice(0, 80)
    out = pd.DataFrame({ITEM: ids, "title": title.map(readable).to_numpy(), "text": text})
    used = {found[ITEM], found.get("title")}
    for column in frame.columns:
        if column not in used and column not in out.columns:
            out[column] = frame[column].to_numpy()
    notes = [*attrs.get("notes", []), *_layout_note(frame, ITEM_LAYOUTS, name)[1]]
    duplicated = out[ITEM].duplicated()
    if duplicated.any():
        example = out.loc[duplicated, ITEM].iloc[0]
        notes.append(
            f"{name}: {int(duplicated.sum()):,} duplicate item id(s) (e.g. '{example}'); the first row of each was kept"
        )
        out = out[~duplicated].reset_index(drop=True)
    out.attrs[NOTES] = notes
    return out


@_memory_guarded
def read_items(
    source: Source,
    *,
    name: str | None = None,
    mapping: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    header: bool | None = None,
    columns: Sequence[str] | None = None,
    text_columns: Sequence[str] | None = None,
    caller: Caller = PYTHON,
) -> pd.DataFrame:
    """Read an items file with an id and a title and/or descriptive columns; see :func:`items_from_frame`."""
    label = _label(source, name)
    table = read_table(source, name=label, max_bytes=max_bytes, header=header, columns=columns)
    return items_from_frame(table, name=label, mapping=mapping, text_columns=text_columns, caller=caller)


def item_columns_choice(
    item_columns: Mapping[str, str | Sequence[str]] | None, *, caller: Caller = PYTHON
) -> tuple[dict[str, str], list[str] | None]:
    """``{"item_id": "sku", "title": "product_name", "text": ["description", "category"]}`` (the CLI's
    ``--item-columns`` and Python's ``item_columns=``) as (mapping, text columns or None for the default ones).

    Raises RecaugInputError for a key other than item_id, title and text.
    """
    chosen = dict(item_columns or {})
    unknown = [key for key in chosen if key not in ITEM_COLUMN_KEYS]
    if unknown:
        where = "--item-columns" if caller == CLI else "item_columns"
        raise RecaugInputError(
            f"{where} maps {', '.join(map(repr, unknown))}, which is not an items column recaug reads",
            fix=f"map {', '.join(ITEM_COLUMN_KEYS)} (text: one column or several), e.g. "
            + (
                "--item-columns item_id=sku,title=product_name,text=description+category"
                if caller == CLI
                else "item_columns={'item_id': 'sku', 'title': 'product_name', 'text': ['description', 'category']}"
            ),
        )
    text = chosen.pop("text", None)
    mapping = {key: str(value) for key, value in chosen.items()}
    if text is None:
        return mapping, None
    return mapping, [text] if isinstance(text, str) else [str(column) for column in text]


def empty_items(item_ids: np.ndarray) -> pd.DataFrame:
    """Items table for data without item text: the id doubles as title and text."""
    ids = pd.Series(item_ids, dtype=str)
    return pd.DataFrame({ITEM: ids, "title": ids, "text": ids})
