"""recaug Home: choose the data (built-in MovieLens-100k or an upload) and see its summary."""

from __future__ import annotations

import streamlit as st

from recaug.charts import degree_histograms
from ui.data_form import builtin_section, summary_cards, upload_section
from ui.page import page_setup
from ui.state import PREPARE_REPORT, current_dataset

page_setup("Home")
st.title("recaug")
st.markdown(
    "**Does augmenting your recommender's training data actually help?** recaug adds synthetic interactions "
    "(LLM, text similarity, GANs, heuristics) to the *training split only*, retrains the models and compares "
    "them with the baseline on an untouched test split."
)

dataset = current_dataset()
source = st.radio("Data", ["Built-in: MovieLens-100k", "Upload my data"], horizontal=True, key="data_source")
if source.startswith("Built-in"):
    builtin_section()
else:
    upload_section()

dataset = current_dataset()
st.subheader("Current dataset")
summary_cards(dataset)
report = st.session_state.get(PREPARE_REPORT)
if report is not None and (report.rows_below_threshold or report.rows_removed_by_kcore):
    st.caption(
        f"Preparation: {report.rows_in:,} rows in, {report.rows_below_threshold:,} below the rating "
        f"threshold, {report.rows_removed_by_kcore:,} removed by the k-core filter, {report.rows_out:,} kept."
    )
st.plotly_chart(degree_histograms(dataset), key="home_degree_chart")
st.page_link("pages/1_Augment.py", label="Next: choose augmentation methods →", icon="🧪")
