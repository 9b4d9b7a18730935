"""Embeddings: users and items, real and synthetic, in one 2-D space; lasso points to see their synthetic rows."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recaug.analysis import projection
from recaug.analysis.explorer import embedding_points, item_vectors, selection_table
from recaug.reporting.figures import projection_scatter
from ui.cached import cached_value
from ui.errors import friendly_errors
from ui.escape import markdown_prose, markdown_text
from ui.page import page_setup
from ui.projection_jobs import background_jobs, ready_or
from ui.session import current_dataset
from ui.state import AUGMENT_RESULTS, no_augment_results_note, results_key, results_split

page_setup("Embeddings")
st.title("Embeddings: real vs synthetic")
dataset = current_dataset()
results = st.session_state.get(AUGMENT_RESULTS) or {}
if not results:
    st.info(f"No synthetic data here yet, so real data only. {no_augment_results_note('This page')}")
synthetic = pd.concat([r.rows for r in results.values()], ignore_index=True) if results else None

left, mid, right = st.columns(3)
method = left.radio(
    "Projection",
    ["umap", "pca"],
    horizontal=True,
    key="emb_method",
    format_func=str.upper,
    help="PCA is instant; UMAP shows neighbourhoods better and is computed in the background "
    "(PCA is shown until it is ready).",
)
show = mid.radio("Points", ["users and items", "users", "items"], horizontal=True, key="emb_points")
colour_by = right.selectbox(
    "Colour by",
    ["group", "method", "cold_warm", "popularity"],
    key="emb_colour",
    help="group: items, real users, users with their synthetic items added, generated (virtual) users; every "
    "method's points share one group there. method: one colour per method, real data in its own.",
)
GROUPS = {
    ("item", "real"): "item",
    ("user", "real"): "user",
    ("user", "synthetic"): "user + synthetic",
    ("user", "virtual"): "virtual user",
}


def merged_groups_note(points: pd.DataFrame) -> str:
    """Colour by group draws every method's users in one colour; name the methods merged there (walk 11)."""
    notes = []
    for group, part in points[points["method"] != "real"].groupby("group", sort=True):
        methods = list(dict.fromkeys(part["method"]))
        if len(methods) > 1:
            named = markdown_text(", ".join(methods), 300)
            notes.append(f"'{group}' merges {len(methods)} methods ({named}; {len(part):,} points)")
    return (" " + "; ".join(notes) + ". Colour by **method** tells them apart.") if notes else ""


def lasso_hint() -> str:
    """What a lasso lists here; with no synthetic rows in the map, what is there instead and what to do (walk 13)."""
    if synthetic is not None and len(synthetic):
        return "Drag a lasso around points to list their synthetic interactions."
    if not results:
        return (
            "Real data only: there are no synthetic interactions for a lasso to list. Run an augmentation on the "
            "Augment page to add them to this map."
        )
    named = markdown_text(", ".join(results), 300)
    return (
        f"{named} added no synthetic rows, so every point is real data and a lasso lists nothing. For synthetic "
        "interactions, run a method that adds rows, or a larger budget, on the Augment page."
    )


with friendly_errors("build the embedding space"):
    split, seed, protocol = results_split(dataset)
    vectors, source = cached_value(
        f"itemvec:{dataset.fingerprint()}:{protocol}:{seed}", lambda: item_vectors(dataset, split.train)
    )

    def build(projection: str):
        return embedding_points(
            dataset, split.train, synthetic, item_vectors=vectors, source=source, method=projection, seed=seed
        )

    key = results_key(dataset, "emb")

    umap_key = key + ":umap"
    polling = method == "umap" and background_jobs().state(umap_key) != "done"

    @st.fragment(run_every=2.0 if polling else None)
    def projection_view() -> None:
        if method == "umap":
            space, final, error = ready_or(
                key + ":umap", lambda: build("umap"), lambda: cached_value(key, lambda: build("pca"))
            )
            if final and polling:  # this fragment was set to poll: one full rerun draws it without the timer
                st.rerun()
            label = (
                "UMAP"
                if final and not error
                else (
                    "PCA (UMAP failed: " + markdown_prose(error, 300) + ")"
                    if error
                    else "PCA — UMAP is computing in the background…"
                )
            )
        else:
            space, label = cached_value(key, lambda: build("pca")), "PCA"
        total = len(space.points)
        # Above MAX_POINTS: the seeded sample UMAP was fitted on (PCA draws the same one), said in the caption.
        sampled = space.points.iloc[projection.projection_sample(total, seed)]
        pairs = zip(sampled["kind"], sampled["origin"], strict=True)
        points = sampled.assign(group=[GROUPS.get(pair, pair[1]) for pair in pairs])
        if show != "users and items":
            points = points[points["kind"] == show.rstrip("s")]
        sample = f"a seeded sample of {len(sampled):,} of all {total:,} points"
        shown = (
            f"{len(points):,} points"
            if len(sampled) == total
            else f"{sample[0].upper()}{sample[1:]}"
            if len(points) == len(sampled)
            else f"{len(points):,} {show} in {sample}"
        )
        if len(sampled) < total:
            shown += (
                f" (above {projection.MAX_POINTS:,} points the map shows a sample; the counts below are for all points)"
            )
        st.caption(
            f"{shown} · {label} · item vectors from {source} · split {protocol}, seed {seed}. {lasso_hint()}"
            + (merged_groups_note(points) if colour_by == "group" else "")
        )
        event = st.plotly_chart(
            projection_scatter(points, color_by=colour_by, title=label.split(" —")[0]),
            key="emb_chart",
            on_select="rerun",
            selection_mode=("lasso", "box"),
        )
        selected = [p.get("customdata") for p in (event.selection.points if event else [])]
        selected = [s[0] if isinstance(s, list) else s for s in selected if s]
        if selected:
            table = selection_table(points, selected, synthetic, dataset)
            st.markdown(f"**{len(selected)} selected point(s)** · {len(table):,} synthetic interactions")
            st.dataframe(table, hide_index=True, width="stretch")
        everything = space.points if show == "users and items" else space.points[space.points["kind"] == show[:-1]]
        counts = everything.groupby(["kind", "origin"]).size().rename("points").reset_index()
        st.dataframe(counts, hide_index=True)

    projection_view()
