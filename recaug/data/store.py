"""Prepared datasets kept on disk by fingerprint, so a saved run reopens with its data and a browser refresh
finds the uploaded data again.

Layout: ``<folder>/<fingerprint>/meta.json`` (name, sources, built-in or not, how the file wrote its timestamps),
``interactions.parquet``, ``items.parquet`` and, when the items file had rows without interactions,
``unused_items.parquet`` (:attr:`Dataset.unused_items`). Built-in data stores only its name (its licence forbids
copies; it is read from the installed package again). Writes go to a temporary folder of their own, renamed at the end
(:mod:`recaug.core.atomic`), so a half-written copy is never read and two sessions saving the same data both succeed.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pandas as pd

from recaug.core.atomic import partial_folder, publish
from recaug.core.errors import RecaugInputError
from recaug.data.builtin import BUILTIN
from recaug.data.dataset import Dataset
from recaug.data.schema import CONFIDENCE, ITEM, ORIGIN, RATING, TIMESTAMP, UNIX_SECONDS, USER

logger = logging.getLogger(__name__)
META = "meta.json"
UNUSED_ITEMS = "unused_items.parquet"


def save_dataset(dataset: Dataset, folder: str | Path) -> Path:
    """Keep ``dataset`` under ``folder/<fingerprint>`` (once: an existing copy is left as it is)."""
    fingerprint = dataset.fingerprint()
    target = Path(folder) / fingerprint
    if (target / META).exists():
        return target
    tmp = partial_folder(Path(folder), fingerprint)  # unique: two sessions saving the same upload both succeed
    try:
        builtin = dataset.name in BUILTIN and not dataset.sources
        if not builtin:
            columns = [c for c in (USER, ITEM, RATING, TIMESTAMP, ORIGIN, CONFIDENCE) if c in dataset.interactions]
            dataset.interactions[columns].to_parquet(tmp / "interactions.parquet", index=False)
            _write_items(dataset.items, tmp / "items.parquet")
            if dataset.unused_items is not None and len(dataset.unused_items):
                _write_items(dataset.unused_items, tmp / UNUSED_ITEMS)
        meta = {
            "name": dataset.name,
            "sources": list(dataset.sources),
            "builtin": builtin,
            "fingerprint": fingerprint,
            "timestamp_form": dataset.timestamp_form,
        }
        (tmp / META).write_text(json.dumps(meta, indent=2))
        publish(tmp, target)  # False: another session saved the same data first, and its copy is kept
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _write_items(items: pd.DataFrame, path: Path) -> None:
    items = items.copy()
    items.columns = [str(c) for c in items.columns]
    items.astype({c: str for c in items.columns if items[c].dtype == object}).to_parquet(path, index=False)


def load_saved_dataset(fingerprint: str, folder: str | Path) -> Dataset:
    """The dataset saved under ``fingerprint``; RecaugInputError when it is missing or damaged."""
    path = Path(folder) / str(fingerprint)
    try:
        meta = json.loads((path / META).read_text())
        if meta.get("builtin"):
            from recaug.data.loading import load_dataset

            dataset, _ = load_dataset(meta["name"])
        else:
            items = pd.read_parquet(path / "items.parquet")
            if (path / UNUSED_ITEMS).is_file():  # from_frames sets them apart again
                items = pd.concat([items, pd.read_parquet(path / UNUSED_ITEMS)], ignore_index=True)
            dataset = Dataset.from_frames(
                pd.read_parquet(path / "interactions.parquet"),
                items,
                name=meta["name"],
                sources=tuple(meta.get("sources", ())),
                timestamp_form=meta.get("timestamp_form", UNIX_SECONDS),  # copies saved before it was kept: numbers
            )
    except Exception as err:  # missing, cut or unreadable files (pyarrow raises many types): all mean "not here"
        raise RecaugInputError(
            f"the data of fingerprint {fingerprint} is not stored here ({type(err).__name__})",
            file=str(path),
            fix="load the data again on Home (its fingerprint must match the run's)",
        ) from None
    if dataset.fingerprint() != fingerprint:
        raise RecaugInputError(
            f"the stored data no longer has fingerprint {fingerprint} (now {dataset.fingerprint()})",
            file=str(path),
            fix="load the original data again on Home",
        )
    return dataset
