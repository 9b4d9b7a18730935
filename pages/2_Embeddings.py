"""Embeddings: real vs synthetic users/items in one 2-D space (PCA instantly, UMAP when ready)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recaug.data.splits import make_split
from recaug.embedding_plot import scatter
from recaug.embedding_space import item_points, user_points
from ui.cached import cached_value
from ui.errors import friendly_errors
from ui.page import page_setup
from ui.projection_jobs import best_projection
from ui.state import AUGMENT_RESULTS, augment_config, current_dataset

page_setup("Embeddings")
st.title("Embeddings: real vs synthetic")
dataset = current_dataset()
results = st.session_state.get(AUGMENT_RESULTS) or {}
seed = int(augment_config()["seed"])
if not results:
    st.info("No synthetic data yet: showing real data only. Run a method on the Augment page to compare.")
synthetic = (
    pd.concat([r.rows for r in results.values()], ignore_index=True)
    if results
    else pd.DataFrame(columns=["user_id", "item_id", "origin", "confidence"])
)

left, mid, right = st.columns(3)
kind = left.radio(
    "Points",
    ["Users", "Items"],
    horizontal=True,
    key="emb_kind",
    help="Users: mean vector of their training items, and again with synthetic items added. "
    "Items: text embeddings (or SVD factors when there is no item text).",
)
method = mid.radio(
    "Projection",
    ["umap", "pca"],
    horizontal=True,
    key="emb_method",
    format_func=str.upper,
    help="PCA is instant; UMAP shows neighbourhoods better and is computed "
    "in the background (PCA is shown until it is ready).",
)
colour_options = ["origin", "method"] if kind == "Users" else ["origin", "popularity"]
colour_by = right.selectbox("Colour by", colour_options, key="emb_colour")

with friendly_errors("build the embedding space"):
    split = cached_value(
        f"split:{dataset.fingerprint()}:{seed}", lambda: make_split(dataset.interactions, "random-811", seed)
    )
    builder = user_points if kind == "Users" else item_points
    vectors, table = builder(dataset, split.train, synthetic)
    if colour_by == "popularity":
        table = table.assign(
            popularity=pd.qcut(table["popularity"], 4, labels=["cold", "low", "mid", "head"], duplicates="drop").astype(
                str
            )
        )

    @st.fragment(run_every=2.0 if method == "umap" else None)
    def projection_view() -> None:
        coords, label = best_projection(vectors, method)
        st.caption(f"{len(table):,} points · {label} · split random-811, seed {seed}")
        st.plotly_chart(scatter(coords, table, colour_by, f"{kind} — {label.split(' (')[0]}"), key="emb_chart")

    projection_view()
    counts = table["origin"].value_counts().rename_axis("origin").reset_index(name="points")
    st.dataframe(counts, hide_index=True)
