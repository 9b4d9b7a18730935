"""From a data reference (built-in name or file path) to a prepared, checked :class:`Dataset`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.data.builtin import BUILTIN
from recaug.data.dataset import Dataset
from recaug.data.prepare import AUTO_THRESHOLD, PrepareReport, prepare_checked, suggested_threshold
from recaug.data.readers import (
    CLI,
    PYTHON,
    REGIONAL,
    TIMESTAMP_FORM,
    Caller,
    item_columns_choice,
    read_interactions,
    read_items,
)
from recaug.data.regional import LOAD_DATASET_CONTROLS, RegionalFormat, RegionalSettingError
from recaug.data.schema import ITEM, RATING, UNIX_SECONDS


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
    item_columns: Mapping[str, str | Sequence[str]] | None = None,
    caller: Caller = PYTHON,
) -> RawData:
    """Read 'ml-100k' or a file path (plus an optional items file); both are read before anything is returned.

    ``name`` is what runs and reports call the data (default: the built-in name or the file's name); ``regional``
    says how the file writes dates and decimals (default: detected); ``item_columns`` maps the items file's
    columns (:func:`~recaug.data.readers.item_columns_choice`); ``caller`` words how errors say to map a column.
    """
    item_mapping, text_columns = item_columns_choice(item_columns, caller=caller)
    if item_columns and not items:
        flag = "--item-columns" if caller == CLI else "item_columns"
        raise RecaugInputError(
            f"{flag} maps an items file's columns, but no items file was given",
            fix="give the items file too (--items FILE)" if caller == CLI else "pass items=PATH too",
        )
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
    inter = read_interactions(path, mapping=mapping, header=header, columns=columns, regional=regional, caller=caller)
    item_table = read_items(items, mapping=item_mapping, text_columns=text_columns, caller=caller) if items else None
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
    item_columns: Mapping[str, str | Sequence[str]] | None = None,
    caller: Caller = PYTHON,
) -> tuple[Dataset, PrepareReport]:
    """Read, prepare, check and index a dataset in one call (what the CLI uses); see :func:`load_raw`."""
    try:
        raw = load_raw(
            data,
            items,
            mapping,
            name=name,
            header=header,
            columns=columns,
            regional=regional,
            item_columns=item_columns,
            caller=caller,
        )
    except RegionalSettingError as err:  # its fix names the CLI's flags by default
        if caller != PYTHON:
            raise
        raise err.for_surface(LOAD_DATASET_CONTROLS) from None
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
    if (note := left_out_note(dataset, report)) is not None:
        report = replace(report, notes=(*report.notes, note))
    return dataset, report


FILTERS = {"rating threshold": "rows_below_threshold", "k-core filter": "rows_removed_by_kcore"}  # report counts


def left_out_note(dataset: Dataset, report: PrepareReport | None = None) -> str | None:
    """The load note on the items file's rows that have no interaction (:attr:`Dataset.unused_items`): how many,
    examples, why they are not in the catalogue and where one can still be asked about; None when there are none.

    ``report`` says whether the rating threshold or k-core filter removed rows (then "none left after" them); with
    a warning (an items file matching no interaction) every row is left out and the warning says why: no note.
    """
    unused = dataset.unused_items
    if unused is None or unused.empty or (report is not None and report.warnings):
        return None
    n = len(unused)
    items_file = dataset.sources[1] if len(dataset.sources) > 1 else f"the item table of {dataset.name}"
    filters = [] if report is None else [f for f, removed in FILTERS.items() if getattr(report, removed)]
    none = f"no interactions left after the {' and '.join(filters)}" if filters else "no interactions"
    examples = ", ".join(map(str, unused[ITEM].head(2)))
    return (
        f"{n:,} {'item' if n == 1 else 'items'} in {items_file} {'has' if n == 1 else 'have'} {none} and "
        f"{'was' if n == 1 else 'were'} left out of the catalogue (e.g. {examples}); evaluation cannot score items "
        "nobody interacted with; use What-if → New item to see where one would rank"
    )
