"""Augment: choose methods and budget, run on the training split, preview and download synthetic rows."""

from __future__ import annotations

import streamlit as st

from recaug.augment.item_text import id_text_warning
from recaug.data.schema import REAL, TIMESTAMP_WRITTEN
from recaug.data.splits import protocol_summary
from recaug.reporting.export import arm_training_data, to_csv_bytes, to_parquet_bytes
from ui.augment_memorisation import keep_with_augmentation, memorisation_panel
from ui.augment_tuning import tuning_panel
from ui.augment_view import llm_estimate_panel, method_form, result_panel
from ui.errors import friendly_errors
from ui.escape import markdown_prose
from ui.jobs import is_running
from ui.long_runs import AUGMENT, ESTIMATE, estimate, finish_augmentation, show_stop_note, start_augmentation
from ui.page import page_setup
from ui.session import current_dataset
from ui.skill_view import skill_panel
from ui.state import (
    AUGMENT_CONFIG,
    AUGMENT_RESULTS,
    augment_config,
    augment_preview,
    results_config,
    results_split,
)

page_setup("Augment")
st.title("Augment")
dataset = current_dataset()
config = method_form(augment_config(dataset), dataset.name, len(dataset.interactions))
config = skill_panel(dataset, config)
tuning_slot = st.container()  # filled after the run ends below, so it never says "not tuned yet" beside its result
memorisation_panel(dataset, config)
st.session_state[AUGMENT_CONFIG] = config
st.caption(
    f"Data: **{markdown_prose(dataset.name)}** · split `{config['protocol']}` "
    f"({protocol_summary(config['protocol'], config['protocol_params'])}) · "
    "augmenters see the training split only; validation and test are never shown to them."
)
if (id_warning := id_text_warning(dataset, config["augmenters"], config["augmenter_params"])) is not None:
    st.warning(markdown_prose(id_warning), icon=":material/text_fields:")
experiment = augment_preview(dataset, config)[0]
llm_estimate_panel(experiment, lambda: estimate(dataset, experiment))
show_stop_note(ESTIMATE)
running = is_running(AUGMENT)
if st.button("Run augmentation", type="primary", key="run_augment", disabled=not config["augmenters"] or running):
    start_augmentation(dataset, config)
with friendly_errors("run the augmentation"):
    finish_augmentation()
    keep_with_augmentation()
tuning_panel(dataset, config, tuning_slot)
show_stop_note(AUGMENT)

results = st.session_state.get(AUGMENT_RESULTS)
if results and results_config() != config:
    st.warning(
        "The settings changed since these results were made; they (and the Embeddings, Fidelity and What-if "
        "pages) still show the previous run. Press **Run augmentation** to refresh.",
        icon=":material/update:",
    )
if results:
    tabs = st.tabs(list(results))
    for tab, (name, result) in zip(tabs, results.items(), strict=True):
        with tab:
            result_panel(name, result, dataset)
    with friendly_errors("prepare each method's training data"):
        train = results_split(dataset)[0].train
        st.markdown(
            "**Training data per method**, ready for your own models: the real training split plus one method's "
            "synthetic rows, exactly what Compare trains that method on (columns `origin` and `confidence` on "
            f"every row; `timestamp` {TIMESTAMP_WRITTEN[dataset.timestamp_form]}).",
            help="One file per method, never several mixed: a mix is no arm Compare evaluates and repeats "
            "user-item pairs that two methods both proposed.",
        )
        for name, result in results.items():
            arm = arm_training_data(dataset, train, result)
            synthetic = int((arm["origin"] != REAL).sum())
            label, csv, parquet = st.columns([3, 1, 1], vertical_alignment="center")
            removed = f" ({len(result.removed):,} real edges removed)" if result.removed is not None else ""
            label.markdown(
                f"`{name}`: {len(arm):,} rows = {len(arm) - synthetic:,} real{removed} + {synthetic:,} synthetic"
                + (" (LLM negatives with `polarity` -1)" if "polarity" in arm and (arm["polarity"] < 0).any() else "")
            )
            csv.download_button(
                f"{name} (CSV)",
                to_csv_bytes(arm),
                f"train_real_plus_{name}.csv",
                "text/csv",
                key=f"download_train_csv:{name}",
            )
            parquet.download_button(
                f"{name} (Parquet)",
                to_parquet_bytes(arm),
                f"train_real_plus_{name}.parquet",
                "application/octet-stream",
                key=f"download_train_parquet:{name}",
            )
    st.page_link("pages/3_Compare.py", label="Next: compare models before and after →", icon=":material/bar_chart:")
else:
    st.info(
        "Press **Run augmentation** to make synthetic rows with the methods chosen above (or go straight to "
        "**Compare**, which runs them for every seed)."
        if config["augmenters"]
        else "Pick one or more methods and press **Run augmentation**."
    )
