"""Runs: every comparison is saved; list (damaged ones too), inspect, reopen into the dashboard, compare two."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recaug.augment.options import describe_methods
from recaug.data.splits import protocol_summary
from recaug.reporting.export import to_csv_bytes, to_parquet_bytes
from recaug.reporting.run_verdicts import primary_side_by_side
from recaug.reporting.runs import (
    OK,
    arm_difference_text,
    comparison_labels,
    comparison_warning_text,
    delete_run,
    list_runs,
    load_run,
    readable_comparison,
    run_choice_notes,
    run_report,
    run_seeds_text,
    set_run_label,
    shared_first,
)
from ui.compare_view import comparison_table, merged_table
from ui.errors import friendly_errors
from ui.escape import markdown_code, markdown_prose, markdown_text
from ui.mlflow_button import mlflow_section
from ui.page import page_setup
from ui.reopen import reopen_run
from ui.selection_view import chosen_download, info_notes
from ui.state import RUN_PARAM

page_setup("Runs")
st.title("Saved runs")
runs = None
with friendly_errors("list the saved runs"):
    runs = list_runs()
if runs is None:
    st.stop()
if runs.empty:
    st.info("No saved runs yet. Every comparison on the Compare page (and every CLI `compare`) is saved here.")
    st.stop()
st.dataframe(runs.drop(columns=["path"]), hide_index=True, width="stretch", key="runs_table")
damaged = runs[runs["status"] != OK]
if len(damaged):
    st.warning(
        f"{len(damaged)} entr{'y' if len(damaged) == 1 else 'ies'} cannot be opened: "
        + "; ".join(f"{markdown_code(r.run_id)} ({markdown_code(r.status)})" for r in damaged.itertuples())
        + ". They are listed so nothing disappears; delete them below or restore their files."
    )
    gone = st.selectbox("Delete a damaged run or stray entry", ["(keep all)", *damaged["run_id"]], key="runs_delete")
    if gone != "(keep all)" and st.button(f"Delete {markdown_code(gone)}", key="runs_delete_button"):
        with friendly_errors(f"delete {markdown_code(gone)}"):
            delete_run(gone)
            st.rerun()
ids = runs.loc[runs["status"] == OK, "run_id"].tolist()
if not ids:
    st.stop()
labels = runs.set_index("run_id")["label"].to_dict()


def _label(run_id: str) -> str:
    return f"{run_id} · {labels[run_id]}" if labels.get(run_id) else run_id


# The run the URL names (?run=, the session's last run: ui.session.sync_url) opens first, not the newest (which may be
# someone else's); an id not among the openable runs says so and the newest opens.
named = st.query_params.get(RUN_PARAM)
if named and named not in ids:
    st.info(
        f"The link names run {markdown_code(named)}, which "
        + ("cannot be opened (see above)" if named in labels else "is not among the saved runs")
        + "; showing the newest run instead.",
        icon=":material/link_off:",
    )
chosen = st.selectbox(
    "Inspect a run", ids, index=ids.index(named) if named in ids else 0, key="runs_pick", format_func=_label
)
with friendly_errors(f"open run {markdown_code(chosen)}"):
    run = load_run(chosen)
    config = run.config
    methods = describe_methods(config.augmenters, config.augmenter_params)
    sources = ", ".join(run.meta.get("sources", []) or []) or "built-in"
    data_name = markdown_text(run.meta.get("data_name") or config.data)
    st.caption(
        f"Data **{data_name}** ({markdown_text(sources)}) · protocol **{markdown_text(config.protocol)}** "
        f"({markdown_text(protocol_summary(config.protocol, config.protocol_params))}) · seeds "
        f"**{markdown_text(run_seeds_text(run))}** · **{markdown_text(methods)}** · models "
        f"**{markdown_text(', '.join(config.models))}** · data fingerprint {markdown_code(run.fingerprint)}"
    )
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    label = left.text_input("Label", value=run.meta.get("label", ""), key=f"runs_label_{chosen}")
    if right.button("Save label", key="runs_label_save", disabled=label == run.meta.get("label", "")):
        set_run_label(chosen, label)
        st.rerun()
    if st.button("Open this run in the dashboard", key="runs_reopen", type="primary"):
        with friendly_errors(f"reopen run {markdown_code(chosen)}"):
            dataset = reopen_run(chosen)
            st.success(
                f"Reopened: {markdown_text(dataset.name)} with this run's settings and results. The Compare page "
                "shows them; press Run comparison there to refit the models (needed for per-user views and what-ifs)."
            )
    slices = sorted(run.results["slice"].unique(), key=lambda s: (s != "all", s))
    slice_name = st.selectbox("Slice of test users", slices, key="runs_slice")
    before_after = merged_table(run.results, run.significance, slice_name)
    comparison_table(before_after[before_after["metric"].isin(["ndcg", "recall"])], key="runs_before_after")
    info_notes(run_choice_notes(run))  # what validation chose per arm and seed, or that the run did not record it
    with st.expander("Configuration (everything needed to reproduce the run)"):
        st.json(config.to_dict())
    with st.expander("All results (tidy)"):
        st.dataframe(run.results, hide_index=True, width="stretch")
    csv_column, parquet_column, report_column, selection_column = st.columns(4)
    csv_column.download_button(
        "Download its results (CSV)",
        to_csv_bytes(run.results),
        f"results_{chosen}.csv",
        "text/csv",
        key="runs_download",
        help="Cells a spreadsheet would run as a formula (=, +, -, @) are quoted; the Parquet file keeps them exact.",
    )
    parquet_column.download_button(
        "Download its results (Parquet, exact values)",
        to_parquet_bytes(run.results),
        f"results_{chosen}.parquet",
        "application/octet-stream",
        key="runs_download_parquet",
    )
    report_column.download_button(
        "Download the HTML report",
        lambda: run_report(run).encode(),  # built on click from the saved tables, as the CLI builds it after a run
        f"report_{chosen}.html",
        "text/html",
        key="runs_download_report",
        on_click="ignore",
    )
    with selection_column:
        chosen_download(run.chosen, key="runs_download_selection", file_name=f"selection_{chosen}.csv")
    mlflow_section(run)
    confirming = st.session_state.get("runs_delete_confirm") == chosen
    if not confirming and st.button("Delete this run…", key="runs_delete_run"):
        st.session_state["runs_delete_confirm"] = chosen
        st.rerun()
    if confirming:
        st.warning(
            f"Delete run {markdown_code(chosen)} for good? Its results, synthetic rows and reports go; this cannot "
            "be undone (the CLI's `runs delete` does the same).",
            icon=":material/delete:",
        )
        yes, no = st.columns(2)
        if yes.button("Yes, delete it", key="runs_delete_yes", type="primary"):
            del st.session_state["runs_delete_confirm"]
            with friendly_errors(f"delete {markdown_code(chosen)}"):
                delete_run(chosen)
                st.rerun()
        if no.button("Cancel", key="runs_delete_no"):
            del st.session_state["runs_delete_confirm"]
            st.rerun()
if len(ids) >= 2:
    st.subheader("Compare two runs")
    a, b = st.columns(2)
    first = a.selectbox("Run A", ids, index=1, key="runs_a", format_func=_label)
    second = b.selectbox("Run B", ids, index=0, key="runs_b", format_func=_label)
    with friendly_errors(f"compare {markdown_code(first)} with {markdown_code(second)}"):
        # Each run's primary rows, those both have first; every cell: the CLI's runs compare --all-rows.
        table = shared_first(primary_side_by_side(first, second))
        if warnings := table.attrs.get("warnings"):  # other data, split protocol, parameters or metrics
            st.warning(markdown_prose(comparison_warning_text(warnings)), icon=":material/compare_arrows:")
        if differences := table.attrs.get("arm_differences"):  # a shared arm made with other settings
            st.warning(
                markdown_prose(arm_difference_text(table.attrs["shared_arms"], differences)), icon=":material/tune:"
            )
        numeric = [str(c) for c in table.columns if pd.api.types.is_numeric_dtype(table[c]) and c != "k"]
        headers = comparison_labels(list(table.columns))  # 'Δ A', 'seeds B': as the Compare page names them
        config = {c: st.column_config.TextColumn(header) for c, header in headers.items()}
        config |= {c: st.column_config.TextColumn(headers.get(c, c), alignment="right") for c in numeric}
        st.dataframe(
            readable_comparison(table), hide_index=True, width="stretch", column_config=config, key="runs_compare"
        )
