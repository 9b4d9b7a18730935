"""From a data reference (built-in name or file path) to a prepared, checked :class:`Dataset`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.data.builtin import BUILTIN
from recaug.data.dataset import Dataset
from recaug.data.prepare import AUTO_THRESHOLD, PrepareReport, prepare_checked, suggested_threshold
from recaug.data.readers import REGIONAL, TIMESTAMP_FORM, read_interactions, read_items
from recaug.data.regional import RegionalFormat
from recaug.data.schema import RATING, UNIX_SECONDS


@dataclass(frozen=True)
class RawData:
    """What was read, before preparation: interactions, items (or None), display name and source file names."""

    interactions: pd.DataFrame
    items: pd.DataFrame | None
    name: str
    sources: tuple[str, ...]


def load_raw(
    data: str,
    items: str | None = None,
    mapping: Mapping[str, str] | None = None,
    *,
    name: str | None = None,
    header: bool | None = None,
    columns: Sequence[str] | None = None,
    regional: RegionalFormat = REGIONAL,
) -> RawData:
    """Read 'ml-100k' or a file path (plus an optional items file); both are read before anything is returned.

    ``name`` is what runs and reports call the data (default: the built-in name or the file's name); ``regional``
    says how the file writes dates and decimals (default: detected).
    """
    if data in BUILTIN:
        inter, item_table = BUILTIN[data]()
        return RawData(inter, item_table, name or data, ())
    path = Path(data)
    if not path.is_file():
        raise RecaugInputError(
            f"'{data}' is neither a built-in dataset nor an existing file",
            file=data,
            fix=f"use one of {', '.join(BUILTIN)} or a path to a CSV/TSV/DAT/Parquet file",
        )
    inter = read_interactions(path, mapping=mapping, header=header, columns=columns, regional=regional)
    item_table = read_items(items) if items else None
    sources = (path.name, *((Path(items).name,) if items else ()))
    return RawData(inter, item_table, name or path.name, sources)


def load_dataset(
    data: str,
    *,
    items: str | None = None,
    mapping: Mapping[str, str] | None = None,
    rating_threshold: float | str | None = None,
    kcore: int = 0,
    name: str | None = None,
    header: bool | None = None,
    columns: Sequence[str] | None = None,
    regional: RegionalFormat = REGIONAL,
) -> tuple[Dataset, PrepareReport]:
    """Read, prepare, check and index a dataset in one call (what the CLI uses)."""
    raw = load_raw(data, items, mapping, name=name, header=header, columns=columns, regional=regional)
    return build_dataset(raw, rating_threshold=rating_threshold, kcore=kcore)


def build_dataset(
    raw: RawData, *, rating_threshold: float | str | None = None, kcore: int = 0
) -> tuple[Dataset, PrepareReport]:
    """Prepare and check read data (sizes, duplicates, items matching) and fix its index maps.

    ``rating_threshold`` "auto" follows the rating scale (:func:`suggested_threshold`: 4 of 5, 8 of 10).
    """
    if rating_threshold == AUTO_THRESHOLD:
        if RATING not in raw.interactions.columns:
            raise RecaugInputError(
                "a rating threshold of 'auto' was asked for but the data has no rating column",
                file=raw.name,
                column=RATING,
                fix="map a rating column, or leave the threshold out",
            )
        rating_threshold = suggested_threshold(raw.interactions[RATING])
    elif isinstance(rating_threshold, str):
        raise RecaugInputError(
            f"unknown rating threshold '{rating_threshold}'", file=raw.name, fix="give a number or 'auto'"
        )
    items_name = raw.sources[1] if len(raw.sources) > 1 else "items"
    prepared, report = prepare_checked(
        raw.interactions,
        raw.items,
        rating_threshold=rating_threshold,
        kcore=kcore,
        name=raw.name,
        items_name=items_name,
    )
    form = raw.interactions.attrs.get(TIMESTAMP_FORM, UNIX_SECONDS)  # what the reader found; numbers otherwise
    dataset = Dataset.from_frames(prepared, raw.items, name=raw.name, sources=raw.sources, timestamp_form=form)
    return dataset, report
