"""From a data reference (built-in name or file path) to a prepared :class:`Dataset`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from recaug.data.builtin import BUILTIN
from recaug.data.dataset import Dataset
from recaug.data.prepare import PrepareReport, prepare
from recaug.data.readers import read_interactions, read_items
from recaug.errors import RecaugInputError


def load_raw(
    data: str, items: str | None = None, mapping: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """(interactions, items or None, display name) from 'ml-100k' or a CSV/Parquet path."""
    if data in BUILTIN:
        inter, item_table = BUILTIN[data]()
        return inter, item_table, data
    path = Path(data)
    if not path.exists():
        raise RecaugInputError(
            f"'{data}' is neither a built-in dataset nor an existing file",
            file=data,
            fix=f"use one of {', '.join(BUILTIN)} or a path to a CSV/Parquet file",
        )
    inter = read_interactions(path, mapping=mapping)
    item_table = read_items(items) if items else None
    return inter, item_table, path.name


def load_dataset(
    data: str,
    *,
    items: str | None = None,
    mapping: Mapping[str, str] | None = None,
    rating_threshold: float | None = None,
    kcore: int = 0,
) -> tuple[Dataset, PrepareReport]:
    """Read, prepare and index a dataset in one call (what the CLI uses)."""
    inter, item_table, name = load_raw(data, items, mapping)
    prepared, report = prepare(inter, rating_threshold=rating_threshold, kcore=kcore, name=name)
    return Dataset.from_frames(prepared, item_table, name=name), report
