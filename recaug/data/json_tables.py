"""JSON lines and JSON arrays as tables: the review dumps LLM-for-recommendation papers use.

Amazon Reviews (2014, 2018, 2023), Goodreads and Yelp come as one JSON object per line (often gzipped); small
exports come as one JSON array. Every field becomes a text column, like a CSV column, so ids, ratings and times
are parsed by the same code as any other table. Lists of words (categories, features, a description in
paragraphs) become text; nested objects (images, details, hours) and lists of them are left out, with a note.
The 2014 Amazon metadata files hold Python literals (single quotes), not JSON: they are read too.
"""

from __future__ import annotations

import ast
import io
import json
from collections.abc import Iterator
from typing import Any

import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.data.schema import normalise_name

_STRING = pd.StringDtype("pyarrow")
# Lists under these names are prose in paragraphs (joined with a space); other lists are tags (joined with ', ').
_PARAGRAPHS = {"description", "text", "reviewtext", "summary", "content", "overview"}
_NESTED = object()  # marks a value that is an object (or a list of objects): the column is left out


def looks_like_json(content: bytes) -> bool:
    """Whether the text starts like a JSON object or array (after a BOM and whitespace)."""
    return content[:512].lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"["))


def read_json_table(content: bytes, name: str) -> pd.DataFrame:
    """Every record of a JSON-lines file or JSON array as one row, every field as a text column.

    ``attrs["notes"]`` says what was read and what was left out; a record that does not parse raises a
    :class:`RecaugInputError` naming its line.
    """
    stripped = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    notes = [f"{name}: read as JSON {'array' if stripped.startswith(b'[') else 'lines'}, one record per row"]
    columns = _columns_with_arrow(content) if stripped.startswith(b"{") else None
    if columns is None:
        records = _array_records(stripped, name) if stripped.startswith(b"[") else _line_records(content, name)
        columns = _columns_from_records(records, name)
    kept = {key: values for key, values in columns.items() if values is not _NESTED}
    left_out = [key for key in columns if key not in kept]
    if left_out:
        notes.append(f"{name}: nested fields left out: {', '.join(left_out[:12])}")
    if not kept or not any(len(v) for v in kept.values()):
        raise RecaugInputError("the JSON file holds no records with fields", file=name, fix="check the file's content")
    frame = pd.DataFrame({key: _series(values) for key, values in kept.items()})
    frame.attrs.update(header=True, notes=notes, duplicates={}, row_offset=1)
    return frame


def _series(values: Any) -> pd.Series:
    """A text column from a list of cells, or from a pyarrow string array without copying it into Python."""
    if isinstance(values, list):
        return pd.Series(values, dtype=_STRING)
    return pd.Series(pd.arrays.ArrowStringArray(values), dtype=_STRING)


def _columns_with_arrow(content: bytes) -> dict[str, Any] | None:
    """pyarrow's columnar JSON-lines reader (fast, little memory); None when the file needs the exact reader
    (a field whose type changes between records, Python literals, one record spread over lines)."""
    import pyarrow as pa
    import pyarrow.json as pajson

    try:
        table = pajson.read_json(io.BytesIO(content), read_options=pajson.ReadOptions(block_size=1 << 24))
        return _arrow_columns(table)
    except MemoryError:
        raise
    except (pa.ArrowException, SystemError):  # pyarrow's own slips, read exactly instead: a list of nulls fails
        # to convert, and a list holding a null then a string (`[null, "0"]`) raises SystemError in to_pylist
        return None


def _arrow_columns(table: Any) -> dict[str, Any]:
    """Scalar fields stay pyarrow string arrays (no Python objects for millions of cells); lists become text."""
    import pyarrow as pa

    columns: dict[str, Any] = {}
    for field, column in zip(table.schema, table.columns, strict=True):
        kind = field.type
        if pa.types.is_struct(kind) or pa.types.is_map(kind) or _holds_struct(kind):
            columns[field.name] = _NESTED
        elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
            columns[field.name] = [_text(value, field.name) for value in column.to_pylist()]
        elif pa.types.is_null(kind):
            columns[field.name] = [None] * len(column)
        else:
            columns[field.name] = column.cast(pa.string()) if not pa.types.is_boolean(kind) else _booleans(column)
    return columns


def _holds_struct(kind: Any) -> bool:
    import pyarrow as pa

    while pa.types.is_list(kind) or pa.types.is_large_list(kind):
        kind = kind.value_type
    return bool(pa.types.is_struct(kind) or pa.types.is_map(kind))


def _booleans(column: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.if_else(column, pa.scalar("true"), pa.scalar("false"))


def _line_records(content: bytes, name: str) -> Iterator[tuple[int, Any]]:
    """(line number, record) of each non-blank line: JSON, else a Python literal (Amazon 2014 metadata)."""
    for number, line in enumerate(io.BytesIO(content), start=1):
        text = line.strip()
        if not text:
            continue
        try:
            yield number, json.loads(text)
        except ValueError:
            try:
                yield number, ast.literal_eval(text.decode("utf-8", errors="replace"))
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                raise RecaugInputError(
                    f"line {number} is not a JSON record ('{text[:60].decode('utf-8', errors='replace')}')",
                    file=name,
                    row=number,
                    fix="write one JSON object per line (JSON lines), or one JSON array of objects",
                ) from None


def _array_records(content: bytes, name: str) -> Iterator[tuple[int, Any]]:
    try:
        records = json.loads(content)
    except ValueError as err:
        raise RecaugInputError(
            f"the JSON does not parse ({err})", file=name, fix="check the file, or write it as JSON lines"
        ) from None
    if not isinstance(records, list):
        raise RecaugInputError("the JSON is not a list of records", file=name, fix="write one object per record")
    yield from enumerate(records, start=1)


def _columns_from_records(records: Iterator[tuple[int, Any]], name: str) -> dict[str, Any]:
    columns: dict[str, list[Any]] = {}
    for count, (number, record) in enumerate(records):
        if not isinstance(record, dict):
            raise RecaugInputError(
                f"record {number} is a {type(record).__name__}, not an object with fields",
                file=name,
                row=number,
                fix='write one JSON object per record, e.g. {"user_id": "u1", "item_id": "i9", "rating": 4}',
            )
        for key, value in record.items():
            column = columns.get(str(key))
            if column is None:
                column = columns[str(key)] = [None] * count
            column.append(_text(value, str(key)))
        for column in columns.values():
            if len(column) <= count:
                column.append(None)
    return {key: _NESTED if any(v is _NESTED for v in values) else values for key, values in columns.items()}


def _text(value: Any, key: str) -> Any:
    """A JSON value as a text cell: lists of words joined, objects marked as nested, None kept missing."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return _NESTED
    if isinstance(value, list | tuple):
        words = list(_flatten(value))
        if any(word is _NESTED for word in words):
            return _NESTED
        words = [w for w in dict.fromkeys(str(word).strip() for word in words) if w]
        return (" " if normalise_name(key) in _PARAGRAPHS else ", ").join(words) or None
    return str(value)


def _flatten(values: Any) -> Iterator[Any]:
    for value in values:
        if isinstance(value, list | tuple):
            yield from _flatten(value)
        elif isinstance(value, dict):
            yield _NESTED
        elif value is not None:
            yield value
