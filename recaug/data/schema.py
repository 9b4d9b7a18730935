"""Canonical column names and the aliases we recognise in users' files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

USER = "user_id"
ITEM = "item_id"
RATING = "rating"
TIMESTAMP = "timestamp"
ORIGIN = "origin"
CONFIDENCE = "confidence"
REAL = "real"
# Synthetic rows may say whether they are a liked (1, the default when the column is absent) or a disliked (-1)
# interaction; experiments train on positives and hand negatives to models that use fixed hard negatives.
POLARITY = "polarity"

# How the source file wrote its timestamps (kept as Unix seconds inside): files written for the user write them
# back the same way (recaug.reporting.export.timestamps_as_given), so they read and join with the user's data.
UNIX_SECONDS = "unix"  # numbers (seconds, or milliseconds/microseconds read as seconds)
ISO_DATETIME = "datetime"  # dates with a time of day: written "2021-03-04T10:00:00Z"
ISO_DATE = "date"  # dates without a time on every row: written "2021-03-04"
TIMESTAMP_FORMS = (UNIX_SECONDS, ISO_DATETIME, ISO_DATE)
# How each form is written, in words for captions and help text.
TIMESTAMP_WRITTEN = {
    UNIX_SECONDS: "in Unix seconds, UTC",
    ISO_DATETIME: "as your file's dates, ISO 8601 in UTC (2021-03-04T10:00:00Z)",
    ISO_DATE: "as your file's dates, ISO 8601 (2021-03-04)",
}

INTERACTION_COLUMNS = (USER, ITEM, RATING, TIMESTAMP)
SYNTHETIC_COLUMNS = (USER, ITEM, ORIGIN, CONFIDENCE)

# Lower-cased, with '_', '-' and spaces removed before comparison.
ALIASES: dict[str, tuple[str, ...]] = {
    USER: ("userid", "user", "uid", "users", "customerid", "customer", "reviewerid", "visitorid"),
    ITEM: (
        "itemid",
        "item",
        "movieid",
        "movie",
        "iid",
        "parentasin",  # Amazon Reviews 2023: reviews of one product's variants share it (the field's item id)
        "asin",
        "productid",
        "product",
        "bookid",
        "isbn",
        "businessid",
        "articleid",
        "trackid",
        "songid",
        "sku",  # retail catalogues: a stock-keeping unit is the product's id
    ),
    RATING: ("rating", "score", "stars", "rate", "preference", "value", "overall", "bookrating"),
    TIMESTAMP: (
        "timestamp",
        "time",
        "ts",
        "datetime",
        "date",
        "unixreviewtime",
        "eventtime",
        "dateadded",
        # retail exports: when the order was placed
        "purchasedon",
        "purchasedate",
        "orderdate",
        "createdat",
    ),
    "title": ("title", "name", "itemname", "movietitle", "moviename", "producttitle", "booktitle", "productname"),
    "text": ("text", "description", "desc", "overview", "plot", "summary", "genres", "genre", "content", "abstract"),
}


def normalise_name(name: object) -> str:
    """A column name as aliases are compared: lower case, letters and digits only ('Item-ID' -> 'itemid')."""
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def detect_columns(
    columns: Iterable[str],
    wanted: Iterable[str] = INTERACTION_COLUMNS,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Map canonical names to the file's column names.

    ``overrides`` (canonical -> file column) win over detection; a canonical name
    with no match is simply absent from the result. Columns also strip a
    RecBole-style type suffix (``user_id:token``).
    """
    original = list(columns)
    by_norm: dict[str, str] = {}  # normalised name -> the column as given
    for col in original:
        key = normalise_name(str(col).split(":")[0])
        by_norm.setdefault(key, col)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for canonical, column in (overrides or {}).items():
        if column:
            mapping[canonical] = column
            used.add(column)
    for canonical in wanted:
        if canonical in mapping:
            continue
        for alias in (normalise_name(canonical), *ALIASES.get(canonical, ())):
            found = by_norm.get(alias)
            if found is not None and found not in used:
                mapping[canonical] = found
                used.add(found)
                break
    return mapping
