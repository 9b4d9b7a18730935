"""The data chooser on Home: built-in MovieLens-100k, or an upload with header/column/items mapping and preparation.

Loading is all-or-nothing: both files are read, mapped, prepared and checked before the dataset is replaced, so
a failing items file never leaves half a dataset behind.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from recaug.core.errors import RecaugInputError
from recaug.data.builtin import ML100K_TERMS
from recaug.data.dataset import Dataset
from recaug.data.loading import RawData, build_dataset
from recaug.data.prepare import suggested_threshold
from recaug.data.readers import (
    HOME,
    default_text_columns,
    interaction_mapping,
    interactions_from_frame,
    item_mapping,
    items_from_frame,
    read_table,
)
from recaug.data.regional import AUTO, DAY_FIRST, MONTH_FIRST, RegionalFormat
from recaug.data.schema import INTERACTION_COLUMNS, ITEM, RATING, TIMESTAMP, USER
from recaug.reporting.runs import datasets_dir
from ui.cached import builtin_dataset, cached_value
from ui.errors import friendly_errors
from ui.escape import markdown_text
from ui.state import PREPARE_REPORT, dataset_fingerprint, set_dataset

NONE = "(none)"
# Streamlit checks the last suffix only: "ratings.csv.gz" is a "gz" file.
# Excel is accepted only to be refused by recaug's reader, which says how to save it as CSV; a browser refusal
# would say only that the type is not allowed.
UPLOAD_TYPES = ["csv", "tsv", "txt", "dat", "parquet", "pq", "json", "jsonl", "ndjson", "gz", "zip", "xlsx", "xls"]
HEADER_CHOICES = {
    "Detect": None,
    "First row is a header": True,
    "No header (first row is data)": False,
}


def _header_choice(key: str) -> bool | None:
    label = st.radio(
        "Header row",
        list(HEADER_CHOICES),
        horizontal=True,
        key=f"header_{key}",
        help="Detect: the first row names the columns when it holds names (userId, title…) above numbers. "
        "Choose 'No header' for files such as MovieLens ratings.dat, then map the columns by position.",
    )
    return HEADER_CHOICES[label]


def _uploaded_table(key: str, header: bool | None) -> tuple[pd.DataFrame | None, str | None]:
    """The upload under ``key`` read as text columns (cached per file and header choice), or (None, name)."""
    upload = st.session_state.get(key)
    if upload is None:
        return None, None
    with friendly_errors(f"read {markdown_text(upload.name)}"):
        cache_key = f"upload:{getattr(upload, 'file_id', upload.name)}:{upload.size}:{header}"
        table = cached_value(cache_key, lambda: read_table(upload.getvalue(), name=upload.name, header=header))
        return table, upload.name
    return None, upload.name


DATE_CHOICES = {"Detect": AUTO, "Day first (31.12.2024)": DAY_FIRST, "Month first (12/31/2024)": MONTH_FIRST}
DECIMAL_CHOICES = {"Detect": AUTO, "Point (4.5)": ".", "Comma (4,5)": ","}


def _regional_choice() -> RegionalFormat:
    """How the file writes dates and decimals; Detect refuses dates both readings fit instead of guessing."""
    left, right = st.columns(2)
    dates = left.radio(
        "Dates",
        list(DATE_CHOICES),
        horizontal=True,
        key="regional_dates",
        help="Detect: a first field above 12 means day first (31.12.2024), a second one above 12 month first. A "
        "file where every date fits both (05/06/2024) is refused until you choose here.",
    )
    decimal = right.radio(
        "Decimal mark",
        list(DECIMAL_CHOICES),
        horizontal=True,
        key="regional_decimal",
        help="Detect: a comma is a decimal mark in files whose columns are not separated by commas (4,5 in a ';' "
        "file).",
    )
    return RegionalFormat(dates=DATE_CHOICES[dates], decimal=DECIMAL_CHOICES[decimal])


def _notes(frame: pd.DataFrame) -> None:
    for note in frame.attrs.get("notes", []):
        st.caption(f":material/info: {markdown_text(note, limit=600)}")


def _mapping_widgets(frame: pd.DataFrame, name: str) -> dict[str, str]:
    detected = interaction_mapping(frame)
    options = [NONE, *map(str, frame.columns)]
    cols = st.columns(4)
    mapping: dict[str, str] = {}
    for col, canonical in zip(cols, INTERACTION_COLUMNS, strict=True):
        default = detected.get(canonical, NONE)
        choice = col.selectbox(
            canonical,
            options,
            index=options.index(default) if default in options else 0,
            key=f"map_{canonical}_{name}",
            help="Detected from common names (or by position when there is no header); change it if it's wrong.",
        )
        if choice != NONE:
            mapping[canonical] = choice
    return mapping


def _items_widgets(frame: pd.DataFrame, name: str, interactions_item: str | None) -> dict[str, Any]:
    """Item id, title and the columns that make an item's text (default: title plus every worded column).

    The item id is detected as the interactions file's columns are (common names, else by position without a
    header), else the column named as the interactions file's item column; nothing detected is (none), with a
    warning, never silently the first column."""
    detected = item_mapping(frame)
    columns = list(map(str, frame.columns))
    if ITEM not in detected and interactions_item in columns:
        detected[ITEM] = str(interactions_item)
    left, middle, right = st.columns([1, 1, 2])
    ids = [NONE, *columns]
    item_id = left.selectbox(
        "item id",
        ids,
        index=ids.index(detected.get(ITEM, NONE)),
        key=f"items_id_{name}",
        help="Detected from common names (item_id, sku, asin…) or the interactions file's item column; change it "
        "if it's wrong.",
    )
    if item_id == NONE:
        left.warning("Choose the column that holds the item ids to load the items file.")
    titles = [NONE, *columns]
    title = middle.selectbox(
        "title",
        titles,
        index=titles.index(detected.get("title", NONE)) if detected.get("title", NONE) in titles else 0,
        key=f"items_title_{name}",
    )
    worded = default_text_columns(frame, [item_id, title])
    text_columns = right.multiselect(
        "text = title + these columns",
        [c for c in columns if c not in (item_id, title)],
        default=worded,
        key=f"items_text_{name}",
        help="What the text encoder and the LLM read about each item. Lists such as Action|Comedy are written "
        "as 'Action, Comedy'.",
    )
    mapping = {**({ITEM: item_id} if item_id != NONE else {}), **({"title": title} if title != NONE else {})}
    return {"mapping": mapping, "text_columns": text_columns}


def builtin_section() -> None:
    """Offer MovieLens-100k with its licence terms."""
    st.caption(ML100K_TERMS)
    if st.button("Use MovieLens-100k", key="use_builtin", type="primary"):
        dataset, report = builtin_dataset("ml-100k")
        set_dataset(dataset, report)
        st.success("MovieLens-100k loaded.")


def upload_section(current: Dataset) -> None:
    """Interactions (+ optional items) upload, header/column mapping, preparation options and Load button."""
    st.file_uploader(
        "Interactions file (CSV, TSV, '::' .dat, TXT, Parquet or JSON lines; gzip/zip allowed)",
        type=UPLOAD_TYPES,
        key="upload_interactions",
        help="One row per user–item interaction. Delimiter, header, encoding and compression are detected; "
        "columns from common names (user/userId/uid, item/movieId/asin, rating/score, timestamp/time). The review "
        "dumps of Amazon (2014, 2018, 2023), Goodreads and Yelp (JSON lines, .json.gz too) and Book-Crossing's "
        "CSV files are recognised. An Excel workbook is not read: save it as 'CSV UTF-8' first.",
    )
    header = _header_choice("interactions")
    frame, name = _uploaded_table("upload_interactions", header)
    if name is None:
        st.info("Upload a file to map its columns. The current dataset stays loaded until you load a new one.")
    if frame is None or name is None:
        return
    preview = frame.head(5)
    preview.attrs = {}  # reader bookkeeping (line locator, notes) is not for display
    st.dataframe(preview, width="stretch", hide_index=True)
    _notes(frame)
    st.markdown("**Column mapping**")
    mapping = _mapping_widgets(frame, name)
    regional = _regional_choice()
    st.file_uploader(
        "Items file (optional: item id + title, genres, description…)", type=UPLOAD_TYPES, key="upload_items"
    )
    items_header = _header_choice("items") if st.session_state.get("upload_items") is not None else None
    items_frame, items_name = _uploaded_table("upload_items", items_header)
    items_choice: dict[str, Any] | None = None
    if items_frame is not None and items_name is not None:
        _notes(items_frame)
        items_choice = _items_widgets(items_frame, items_name, mapping.get(ITEM))
    left, middle, right = st.columns(3)
    data_name = left.text_input(
        "Name of this data", value=name, key=f"data_name_{name}", help="What runs and reports call it."
    )
    use_threshold = middle.checkbox(
        "Keep only high ratings",  # a short label: the column is a third of the page wide
        value=False,
        disabled=RATING not in mapping,
        help="Treat ratings as implicit feedback: only interactions rated at or above the threshold below are "
        "kept (the others are dropped before the split). Off: every interaction counts, whatever its rating.",
    )
    suggested = suggested_threshold(frame[mapping[RATING]]) if RATING in mapping else None
    threshold = middle.number_input(
        "keep ratings ≥",
        value=suggested or 4.0,
        step=0.5,
        disabled=not use_threshold,
        key=f"threshold_{name}_{mapping.get(RATING, '')}",
        help="Default: 80% of the highest rating in the file (4 of 5, 8 of 10). Rows rated 0 in Book-Crossing and "
        "Goodreads mean 'not rated': a threshold drops them.",
    )
    kcore = right.number_input(
        "k-core filter (0 = off)",
        min_value=0,
        max_value=50,
        value=0,
        step=1,
        help="Repeatedly drop users and items with fewer than k interactions.",
    )
    unmapped = [c for c in ("user_id", "item_id") if c not in mapping]
    if unmapped:
        st.warning(f"Choose the column for {' and '.join(unmapped)} to load this file.")
    items_failed = st.session_state.get("upload_items") is not None and items_frame is None
    if st.button("Load data", type="primary", key="load_upload"):
        keep = f"the previous dataset, {markdown_text(current.name)}, stays loaded"
        if items_failed:
            st.error(f"**Could not load {markdown_text(name)}:** the items file could not be read (see above); {keep}.")
            return
        with friendly_errors(f"load {markdown_text(name)} ({keep})"):
            items = (items_frame, items_name, items_choice)
            _load(frame, name, mapping, items, data_name, threshold if use_threshold else None, int(kcore), regional)


def _load(
    frame: pd.DataFrame,
    name: str,
    mapping: dict[str, str],
    items_upload: tuple[pd.DataFrame | None, str | None, dict[str, Any] | None],
    data_name: str,
    threshold: float | None,
    kcore: int,
    regional: RegionalFormat,
) -> None:
    """Map, prepare and check both files; only then replace the dataset (and keep a copy for refreshes)."""
    interactions = interactions_from_frame(frame, name=name, mapping=mapping, regional=regional, caller=HOME)
    items_frame, items_name, items_choice = items_upload
    items = None
    if items_frame is not None and items_name is not None and items_choice is not None:
        items = items_from_frame(items_frame, name=items_name, caller=HOME, **items_choice)
    sources = (name, *((items_name,) if items is not None and items_name else ()))
    raw = RawData(interactions, items, (data_name or name).strip() or name, sources)
    dataset, report = build_dataset(raw, rating_threshold=threshold, kcore=kcore)
    set_dataset(dataset, report)
    try:
        from recaug.data.store import save_dataset

        save_dataset(dataset, datasets_dir())
    except (OSError, ValueError, RecaugInputError):  # the copy only serves refreshes; loading succeeded
        pass
    dataset_fingerprint()
    merged = f" ({report.duplicate_pairs:,} repeated user–item rows merged)" if report.duplicate_pairs else ""
    unused = 0 if dataset.unused_items is None else len(dataset.unused_items)
    left_out = f" {unused:,} catalogue items without interactions are left out (see the notes)." if unused else ""
    loaded = f"Loaded {markdown_text(dataset.name)}: {report.rows_out:,} interactions{merged}.{left_out}"
    if report.warnings:  # an items file matching nothing: not a green "all good" (the warning is under the cards)
        st.warning(f"{loaded} Check the warning under the dataset summary.", icon=":material/warning:")
    else:
        st.success(loaded)


def preparation_notes() -> None:
    """What preparation and the readers found (duplicates, encodings, items matching nothing, thresholds)."""
    report = st.session_state.get(PREPARE_REPORT)
    if report is None:
        return
    if report.rows_below_threshold or report.rows_removed_by_kcore:
        merged = f"{report.duplicate_pairs:,} repeated user–item rows merged, " if report.duplicate_pairs else ""
        st.caption(
            f"Preparation: {report.rows_in:,} rows in, {report.rows_below_threshold:,} below the rating threshold, "
            f"{merged}{report.rows_removed_by_kcore:,} removed by the k-core filter, {report.rows_out:,} kept."
        )
    for warning in getattr(report, "warnings", ()):
        st.warning(markdown_text(warning, limit=600), icon=":material/warning:")
    for note in getattr(report, "notes", ()):
        st.caption(f":material/info: {markdown_text(note, limit=600)}")


def summary_cards(dataset: Dataset) -> None:
    """Users, items, interactions and density as metric cards."""
    summary = dataset.summary()
    cols = st.columns(5)
    cols[0].metric("Users", f"{summary['users']:,}")
    unused = 0 if dataset.unused_items is None else len(dataset.unused_items)
    cols[1].metric(
        "Items",
        f"{summary['items']:,}",
        help=f"Items with interactions; {unused:,} more in the items file have none and are left out (see the note "
        "below)"
        if unused
        else None,
    )
    cols[2].metric("Interactions", f"{summary['interactions']:,}")
    cols[3].metric("Density", f"{summary['density']:.2%}")
    cols[4].metric("Median per user", f"{summary['median_user_degree']:.0f}")
    has_columns = [c for c in (RATING, TIMESTAMP) if c in dataset.interactions.columns]
    text = "with item text" if dataset.has_text else "no item text (ids are used as text)"
    sources = f" · from {markdown_text(', '.join(dataset.sources))}" if dataset.sources else ""
    columns = ", ".join([USER, ITEM, *has_columns])
    st.caption(
        f"**{markdown_text(dataset.name)}**{sources} · columns: {columns} · {text} · fingerprint "
        f"`{dataset_fingerprint()}`"
    )
