"""From a file's bytes to UTF-8 text: compression, file kind, encoding, delimiter and header row.

Each step fails with a :class:`RecaugInputError` saying what the file really is and what to do, so a gzip
file is never called "not UTF-8" and a web page is never called "a file without data rows".
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from recaug.core.errors import RecaugInputError
from recaug.data.schema import normalise_name

# Multi-character delimiters first: '::' files also contain ':' and often ',' inside titles.
DELIMITERS = ("::", "\t", ",", ";", "|")
DELIMITER_NAMES = {"::": "'::'", "\t": "tab", ",": "comma", ";": "semicolon", "|": "'|'"}
# A compressed file read from disk may unpack to this many times its size (text compresses about 5-10x); an
# upload may unpack to the upload limit only.
DECOMPRESSED_FACTOR = 10
_SAMPLE_CHARS = 64 * 1024
_DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".parquet", ".pq", ".inter", ".item", ".json", ".jsonl", ".ndjson")


def megabytes(size: int) -> str:
    """A size in the unit the upload limit is configured in (binary MB: 200 MB = 200 * 2**20 bytes)."""
    if size < 1024:
        return f"{size} bytes"
    if size < 2**20:
        return f"{size / 1024:.0f} KB"
    return f"{size / 2**20:.0f} MB"


def unpack(data: bytes, name: str, limit: int) -> tuple[bytes, str]:
    """(content, inner name): gzip and zip archives are opened; other bytes are returned unchanged.

    Unpacking is streamed and stops as soon as the content passes ``limit`` bytes, so a small archive that
    expands to gigabytes (a "zip bomb") costs at most ``limit`` of memory, never the expanded size.
    """
    if data[:2] == _GZIP:
        return _gunzip(data, name, limit), name[:-3] if name.lower().endswith(".gz") else name
    if data[:4] == b"PK\x03\x04":
        return _unzip(data, name, limit)
    return data, name


_GZIP = b"\x1f\x8b"
_CHUNK = 16 * 2**20  # output per step: few steps for a 200 MB file, little overshoot past the limit
_INPUT = 2**20  # input per step: zlib copies the unconsumed input on every call, so it is fed in slices


def _over(name: str, limit: int) -> RecaugInputError:
    return RecaugInputError(
        f"unpacked, the file is over {megabytes(limit)} (the limit applies to the unpacked size)",
        file=name,
        fix="upload a sample of the file, or convert it to Parquet (columnar and compressed)",
    )


def _gunzip(data: bytes, name: str, limit: int) -> bytes:
    """Every gzip member (pigz and bgzip write several) decompressed, refused once past ``limit``."""
    damaged = "compress the file again, or upload it unpacked"
    chunks: list[bytes] = []
    size, position = 0, 0
    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        while True:
            tail = data[position : position + _INPUT]
            position += len(tail)
            while tail:
                piece = stream.decompress(tail, _CHUNK)
                size += len(piece)
                if size > limit:
                    raise _over(name, limit)
                chunks.append(piece)
                tail = stream.unconsumed_tail
                if stream.eof:  # end of one member: what follows is another member, or padding
                    position -= len(stream.unused_data)
                    if data[position : position + 2] != _GZIP:
                        if data[position:].strip(b"\x00"):
                            raise RecaugInputError(
                                "the gzip file has trailing data that is not gzip", file=name, fix=damaged
                            )
                        return b"".join(chunks)
                    tail = b""
                    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
            if position >= len(data):
                break
    except zlib.error as err:
        raise RecaugInputError(f"the gzip file is damaged ({err})", file=name, fix=damaged) from None
    piece = stream.flush()
    if not stream.eof:
        raise RecaugInputError("the gzip file is damaged or cut short", file=name, fix=damaged)
    if size + len(piece) > limit:
        raise _over(name, limit)
    return b"".join([*chunks, piece])


def _unzip(data: bytes, name: str, limit: int) -> tuple[bytes, str]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = [n for n in archive.namelist() if not n.endswith("/") and not n.startswith("__MACOSX")]
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise RecaugInputError(
            f"the zip file is damaged ({err})", file=name, fix="zip it again, or upload it unpacked"
        ) from None
    if "[Content_Types].xml" in names or any(n.startswith(("xl/", "word/")) for n in names):
        raise _office(name)
    data_files = [n for n in names if n.lower().endswith(_DATA_SUFFIXES)] or names
    if len(data_files) != 1:
        raise RecaugInputError(
            f"the zip file holds {len(data_files)} files ({', '.join(data_files[:5]) or 'none'})",
            file=name,
            fix="upload the one data file itself (unpacked, or zipped on its own)",
        )
    info = archive.getinfo(data_files[0])
    if info.file_size > limit:  # the declared size; the streamed read below does not trust it
        raise _over(f"{name}/{data_files[0]}", limit)
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as member:
            while piece := member.read(_CHUNK):
                size += len(piece)
                if size > limit:
                    raise _over(f"{name}/{data_files[0]}", limit)
                chunks.append(piece)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError, EOFError, zlib.error) as err:
        raise RecaugInputError(
            f"could not unpack {data_files[0]} ({err})", file=name, fix="zip it again without a password, or unpack it"
        ) from None
    return b"".join(chunks), f"{name}/{data_files[0]}"


def _office(name: str) -> RecaugInputError:
    return RecaugInputError(
        "this is an Excel/Office document, not a text table",
        file=name,
        fix="in Excel use File → Save As → 'CSV UTF-8', then upload the CSV",
    )


def refuse_other_formats(data: bytes, name: str) -> None:
    """Name the format of files that are not tables (HTML, Excel, PDF, images) instead of misreading them."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _office(name)
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        raise RecaugInputError(
            "this is a web page (HTML/XML), not a data file",
            file=name,
            fix="download the raw file (on GitHub: the 'Raw' button), not the page that shows it",
        )
    if head.startswith((b"%pdf", b"\x89png", b"\xff\xd8\xff", b"gif8")):
        raise RecaugInputError(
            "this is a document or image, not a data file", file=name, fix="upload a CSV, TSV or Parquet file"
        )


@dataclass(frozen=True)
class Decoded:
    """UTF-8 content and the encoding it was read with (``utf-8`` when it already was)."""

    content: bytes
    encoding: str

    @property
    def note(self) -> str | None:
        if self.encoding == "utf-8":
            return None
        return f"read as {self.encoding} (not UTF-8); check that accented characters look right"


def decode(data: bytes, name: str) -> Decoded:
    """UTF-8 (BOM removed) as is; UTF-16 by its BOM or NUL pattern; otherwise Windows-1252, else Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    encoding = _utf16(data)
    if encoding:
        try:
            return Decoded(data.decode(encoding).lstrip("\ufeff").encode("utf-8"), "UTF-16")
        except UnicodeDecodeError as err:
            raise RecaugInputError(
                f"the file looks like UTF-16 but byte {err.start} does not decode",
                file=name,
                fix="save the file as UTF-8 (in Excel: 'CSV UTF-8'), then upload it again",
            ) from None
    nul = data.find(b"\x00")  # anywhere: a NUL late in the file made a user '1\x00'
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise RecaugInputError(
            f"the file contains binary data (a NUL byte on line {line}), not text",
            file=name,
            row=line,
            fix="upload a CSV, TSV or Parquet file",
        )
    try:
        data.decode("utf-8")
        return Decoded(data, "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return Decoded(data.decode("cp1252").encode("utf-8"), "Windows-1252")
    except UnicodeDecodeError:
        return Decoded(data.decode("latin-1").encode("utf-8"), "Latin-1")


def _utf16(data: bytes) -> str | None:
    if data.startswith(b"\xff\xfe"):
        return "utf-16"
    if data.startswith(b"\xfe\xff"):
        return "utf-16"
    head = data[:4096]
    if len(head) >= 4 and head.count(b"\x00") >= len(head) // 3:
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if odd > 3 * max(even, 1):
            return "utf-16-le"
        if even > 3 * max(odd, 1):
            return "utf-16-be"
    return None


def sample_lines(text: str, limit: int = 200) -> list[str]:
    """The first non-blank lines of ``text`` (at most ``limit``), for sniffing."""
    lines = [line for line in text[:_SAMPLE_CHARS].splitlines() if line.strip()]
    if len(text) > _SAMPLE_CHARS and len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut in the middle
    return lines[:limit]


def split_records(lines: Sequence[str], delimiter: str) -> list[list[str]]:
    """Fields of each line: csv quoting rules for one-character delimiters, a plain split for '::'."""
    if len(delimiter) > 1:
        return [line.split(delimiter) for line in lines]
    try:
        return [row for row in csv.reader(lines, delimiter=delimiter) if row]
    except csv.Error:
        return [line.split(delimiter) for line in lines]


def sniff_delimiter(lines: Sequence[str]) -> str:
    """The delimiter that splits the sample into the most consistent number (> 1) of fields per line."""
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        if not any(delimiter in line for line in lines):
            continue
        counts = Counter(len(fields) for fields in split_records(lines, delimiter))
        width, seen = counts.most_common(1)[0]
        if width < 2:
            continue
        # '::' rows with '::' inside a title have more fields than the rest: count them as consistent.
        consistent = seen if len(delimiter) == 1 else sum(n for w, n in counts.items() if w >= width)
        score = (consistent / max(sum(counts.values()), 1), width if len(delimiter) == 1 else width + 100)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def is_number(value: str) -> bool:
    """Whether a cell holds a number (whitespace around it allowed)."""
    try:
        float(value.strip())
    except ValueError:
        return False
    return bool(value.strip())


def looks_like_header(records: Sequence[Sequence[str]], known_names: set[str]) -> bool:
    """Whether the first record names the columns.

    Yes when it contains a known column name (userId, item, rating, ...), or when one of its fields is text
    above a column that is numeric in the rows below. A first row of numbers is data.
    """
    if not records:
        return True
    first = [field.strip() for field in records[0]]
    normalised = {normalise_name(f.split(":")[0]) for f in first}
    if normalised & known_names:
        return True
    if all(is_number(f) for f in first):
        return False
    body = [row for row in records[1:51] if len(row) >= len(first)]
    if not body:
        return not any(is_number(f) for f in first)
    for position, field in enumerate(first):
        column = [row[position] for row in body]
        numeric = sum(is_number(v) for v in column)
        if not is_number(field) and numeric >= 0.9 * len(column):
            return True
    return not any(is_number(f) for f in first)


def column_names(first: Sequence[str]) -> list[str]:
    """Header fields as unique, stripped names; a RecBole type suffix (``user_id:token``) is dropped."""
    return unique_column_names(first)[0]


def unique_column_names(first: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """(names, renamed): :func:`column_names`, and each renamed duplicate mapped to the name it repeats
    (``rating_2`` -> ``rating``), so readers can say so and refuse to guess which one holds the data."""
    names: list[str] = []
    renamed: dict[str, str] = {}
    for position, field in enumerate(first, start=1):
        name = str(field).strip().strip('"').split(":")[0].strip() or f"column_{position}"
        candidate, n = name, 2
        while candidate in names:
            candidate, n = f"{name}_{n}", n + 1
        if candidate != name:
            renamed[candidate] = name
        names.append(candidate)
    return names, renamed
