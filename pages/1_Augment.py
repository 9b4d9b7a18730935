"""Augment: choose methods and budget, run on the training split, preview and download synthetic rows."""

from __future__ import annotations

import streamlit as st

from recaug.experiment import ExperimentConfig, run_augmenters
from ui.augment_view import method_form, result_panel
from ui.cached import cached_value, config_key
from ui.errors import friendly_errors
from ui.page import page_setup
from ui.progress import streamlit_progress
from ui.state import AUGMENT_CONFIG, AUGMENT_RESULTS, augment_config, current_dataset

page_setup("Augment")
st.title("Augment")
dataset = current_dataset()
st.caption(
    f"Data: **{dataset.name}** · split `random-811` (per-user 80/10/10) · augmenters see the training "
    "split only; validation and test are never shown to them."
)

config = method_form(augment_config())
st.session_state[AUGMENT_CONFIG] = config
if st.button("Run augmentation", type="primary", key="run_augment", disabled=not config["augmenters"]):
    experiment = ExperimentConfig(
        augmenters=config["augmenters"],
        budget=config["budget"],
        target=config["target"],
        augmenter_params=config["augmenter_params"],
        seeds=[config["seed"]],
    )
    key = "augment:" + config_key(dataset, experiment.to_dict())
    report, bar = streamlit_progress("Augmenting")
    with friendly_errors("run the augmentation"):
        st.session_state[AUGMENT_RESULTS] = cached_value(
            key, lambda: run_augmenters(dataset, experiment, config["seed"], progress=report)
        )
    bar.empty()

results = st.session_state.get(AUGMENT_RESULTS)
if results:
    tabs = st.tabs(list(results))
    for tab, (name, result) in zip(tabs, results.items(), strict=True):
        with tab:
            result_panel(name, result, dataset)
    st.page_link("pages/3_Compare.py", label="Next: compare models before and after →", icon=":material/bar_chart:")
else:
    st.info("Pick one or more methods and press **Run augmentation**.")
