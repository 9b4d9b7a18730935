"""The data chooser on Home: built-in MovieLens-100k, or an upload with column mapping and preparation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recaug.data.builtin import ML100K_TERMS
from recaug.data.dataset import Dataset
from recaug.data.prepare import prepare
from recaug.data.readers import interactions_from_frame, items_from_frame, read_table
from recaug.data.schema import INTERACTION_COLUMNS, ITEM, RATING, TIMESTAMP, detect_columns
from ui.cached import builtin_dataset
from ui.errors import friendly_errors
from ui.state import set_dataset

NONE = "(none)"
UPLOAD_TYPES = ["csv", "tsv", "txt", "parquet", "pq"]


def _uploaded_table(key: str) -> tuple[pd.DataFrame | None, str | None]:
    upload = st.session_state.get(key)
    if upload is None:
        return None, None
    with friendly_errors(f"read {upload.name}"):
        return read_table(upload.getvalue(), name=upload.name), upload.name
    return None, upload.name


def _mapping_widgets(frame: pd.DataFrame, name: str) -> dict[str, str]:
    detected = detect_columns(frame.columns)
    options = [NONE, *map(str, frame.columns)]
    cols = st.columns(4)
    mapping: dict[str, str] = {}
    for col, canonical in zip(cols, INTERACTION_COLUMNS, strict=True):
        default = detected.get(canonical, NONE)
        choice = col.selectbox(
            canonical,
            options,
            index=options.index(default),
            key=f"map_{canonical}_{name}",
            help="Detected automatically from common names; change it if it's wrong.",
        )
        if choice != NONE:
            mapping[canonical] = choice
    return mapping


def builtin_section() -> None:
    """Offer MovieLens-100k with its licence terms."""
    st.caption(ML100K_TERMS)
    if st.button("Use MovieLens-100k", key="use_builtin", type="primary"):
        dataset, report = builtin_dataset("ml-100k")
        set_dataset(dataset, report)
        st.success("MovieLens-100k loaded.")


def upload_section() -> None:
    """Interactions (+ optional items) upload, column mapping, preparation options and Load button."""
    st.file_uploader(
        "Interactions file (CSV, TSV or Parquet)",
        type=UPLOAD_TYPES,
        key="upload_interactions",
        help="One row per user–item interaction. Columns are detected from common names "
        "(user/userId/uid, item/movieId/asin, rating/score, timestamp/time).",
    )
    st.file_uploader("Item text file (optional: item id + title/description)", type=UPLOAD_TYPES, key="upload_items")
    frame, name = _uploaded_table("upload_interactions")
    if name is None:
        st.info("Upload a file to map its columns. The current dataset stays loaded until you load a new one.")
    if frame is None or name is None:
        return
    st.dataframe(frame.head(5), width="stretch", hide_index=True)
    st.markdown("**Column mapping**")
    mapping = _mapping_widgets(frame, name)
    left, right = st.columns(2)
    use_threshold = left.checkbox(
        "Treat ratings as implicit feedback above a threshold", value=False, disabled=RATING not in mapping
    )
    threshold = left.number_input("keep ratings ≥", value=4.0, step=0.5, disabled=not use_threshold)
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
    if st.button("Load data", type="primary", key="load_upload"):
        with friendly_errors(f"load {name}"):
            interactions = interactions_from_frame(frame, name=name, mapping=mapping)
            items_frame, items_name = _uploaded_table("upload_items")
            items = items_from_frame(items_frame, name=items_name) if items_frame is not None and items_name else None
            prepared, report = prepare(
                interactions, rating_threshold=threshold if use_threshold else None, kcore=int(kcore), name=name
            )
            set_dataset(Dataset.from_frames(prepared, items, name=name), report)
            st.success(f"Loaded {name}: {report.rows_out:,} interactions.")


def summary_cards(dataset: Dataset) -> None:
    """Users, items, interactions and density as metric cards."""
    summary = dataset.summary()
    cols = st.columns(5)
    cols[0].metric("Users", f"{summary['users']:,}")
    cols[1].metric("Items", f"{summary['items']:,}")
    cols[2].metric("Interactions", f"{summary['interactions']:,}")
    cols[3].metric("Density", f"{summary['density']:.2%}")
    cols[4].metric("Median per user", f"{summary['median_user_degree']:.0f}")
    has_columns = [c for c in (RATING, TIMESTAMP) if c in dataset.interactions.columns]
    text = "with item text" if dataset.has_text else "no item text (ids are used as text)"
    st.caption(
        f"**{dataset.name}** · columns: user_id, {ITEM}{', ' + ', '.join(has_columns) if has_columns else ''}"
        f" · {text} · fingerprint `{dataset.fingerprint()}`"
    )
