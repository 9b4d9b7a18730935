"""recaug entry point: the navigation, and Home (choose the data, see its summary)."""

from __future__ import annotations

import streamlit as st

from recaug.data.builtin import BUILTIN
from recaug.reporting.figures import dataset_histograms
from ui.data_form import builtin_section, preparation_notes, summary_cards, upload_section
from ui.page import page_setup
from ui.session import current_dataset, sync_url
from ui.state import remembered_choice


def home() -> None:
    """Home: built-in MovieLens-100k or an upload; summary cards and degree/popularity histograms."""
    page_setup("Home")
    st.title("recaug")
    st.markdown(
        "**Does augmenting your recommender's training data actually help?** recaug adds synthetic interactions "
        "(LLM, text similarity, GANs, heuristics) to the *training split only*, retrains the models and compares "
        "them with the baseline on an untouched test split."
    )
    current = current_dataset()
    options = ["Built-in: MovieLens-100k", "Upload my data"]
    # Streamlit forgets the radio when the page is left: start from the data actually loaded.
    default = options[1] if current.sources or current.name not in BUILTIN else options[0]
    source = remembered_choice(st.radio, "Data", options, key="data_source", default=default, horizontal=True)
    if source.startswith("Built-in"):
        builtin_section()
    else:
        upload_section(current)
    dataset = current_dataset()
    st.subheader("Current dataset")
    summary_cards(dataset)
    preparation_notes()
    st.plotly_chart(dataset_histograms(dataset), key="home_degree_chart")
    st.page_link("pages/1_Augment.py", label="Next: choose augmentation methods →", icon=":material/science:")


PAGES = [
    st.Page(home, title="Home", icon=":material/home:", default=True),
    st.Page("pages/1_Augment.py", title="Augment", icon=":material/science:"),
    st.Page("pages/2_Embeddings.py", title="Embeddings", icon=":material/scatter_plot:"),
    st.Page("pages/3_Compare.py", title="Compare", icon=":material/bar_chart:"),
    st.Page("pages/4_Fidelity.py", title="Fidelity", icon=":material/biotech:"),
    st.Page("pages/5_What_if.py", title="What-if", icon=":material/lightbulb:"),
    st.Page("pages/6_Runs.py", title="Runs", icon=":material/folder_open:"),
]

try:
    st.navigation(PAGES).run()
finally:  # also after st.stop(): results made during this run go into the URL a refresh restores from
    sync_url()
