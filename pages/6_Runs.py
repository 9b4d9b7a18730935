"""Runs: every comparison is saved; list, inspect, compare two, download."""

from __future__ import annotations

import streamlit as st

from recaug.augment.options import describe_methods
from recaug.export import to_csv_bytes
from recaug.runs import compare_runs, list_runs, load_run
from ui.compare_view import comparison_table, merged_table
from ui.errors import friendly_errors
from ui.page import page_setup

page_setup("Runs")
st.title("Saved runs")
with friendly_errors("list the saved runs"):
    runs = list_runs()
    if runs.empty:
        st.info("No saved runs yet. Every comparison on the Compare page (and every CLI `compare`) is saved here.")
        st.stop()
    st.dataframe(
        runs.drop(columns=[c for c in ("path",) if c in runs.columns]),
        hide_index=True,
        width="stretch",
        key="runs_table",
    )
    ids = runs["run_id"].tolist()
    chosen = st.selectbox("Inspect a run", ids, key="runs_pick")
    run = load_run(chosen)
    config = run.config
    methods = describe_methods(config.augmenters, config.augmenter_params)
    st.caption(
        f"Protocol **{config.protocol}** · seeds **{', '.join(map(str, config.seeds))}** · augmenters "
        f"**{methods}** · models **{', '.join(config.models)}** · data fingerprint `{run.fingerprint}`"
    )
    slices = sorted(run.results["slice"].unique(), key=lambda s: (s != "all", s))
    slice_name = st.selectbox("Slice of test users", slices, key="runs_slice")
    before_after = merged_table(run.results, run.significance, slice_name)
    comparison_table(before_after[before_after["metric"].isin(["ndcg", "recall"])], key="runs_before_after")
    with st.expander("Configuration (everything needed to reproduce the run)"):
        st.json(config.to_dict())
    with st.expander("All results (tidy)"):
        st.dataframe(run.results, hide_index=True, width="stretch")
    st.download_button(
        "Download its results (CSV)",
        to_csv_bytes(run.results),
        f"results_{chosen}.csv",
        "text/csv",
        key="runs_download",
    )
    if len(ids) >= 2:
        st.subheader("Compare two runs")
        a, b = st.columns(2)
        first = a.selectbox("Run A", ids, index=1, key="runs_a")
        second = b.selectbox("Run B", ids, index=0, key="runs_b")
        table = compare_runs(first, second)
        if not table.attrs.get("same_data", True):
            st.warning("These runs used different data (their fingerprints differ); compare with care.")
        st.dataframe(table, hide_index=True, width="stretch", key="runs_compare")
