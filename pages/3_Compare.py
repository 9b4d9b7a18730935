"""Compare: baseline vs augmented models on the identical, untouched test split."""

from __future__ import annotations

import streamlit as st

from recaug.charts import bar_table, compare_bars
from recaug.experiment import ExperimentConfig
from recaug.export import to_csv_bytes
from recaug.models import MODELS
from ui.cached import cached_experiment
from ui.compare_view import comparison_table, verdict
from ui.errors import friendly_errors
from ui.page import page_setup
from ui.progress import streamlit_progress
from ui.state import EXPERIMENT, augment_config, current_dataset

page_setup("Compare")
st.title("Compare before and after")
dataset = current_dataset()
aug = augment_config()
if not aug["augmenters"]:
    st.warning("No augmentation method is selected; choose one on the Augment page.")
    st.page_link("pages/1_Augment.py", label="Go to Augment", icon="🧪")
    st.stop()

left, right = st.columns([3, 1])
models = left.multiselect(
    "Models",
    MODELS.names(),
    default=[m for m in ("pop", "itemknn", "bpr") if m in MODELS],
    format_func=lambda n: f"{n} — {MODELS.get(n).description}",
    key="cmp_models",
)
n_seeds = right.number_input(
    "Seeds",
    1,
    5,
    1,
    key="cmp_seeds",
    help="Each seed re-splits the data and re-trains every model; 3+ gives significance.",
)
seeds = [int(aug["seed"]) + offset for offset in range(int(n_seeds))]
config = ExperimentConfig(
    augmenters=aug["augmenters"],
    augmenter_params=aug["augmenter_params"],
    budget=aug["budget"],
    target=aug["target"],
    models=models,
    seeds=seeds,
)
budget = f"{aug['budget']:.0%} of training" if isinstance(aug["budget"], float) else f"{aug['budget']:,} rows"
st.caption(
    f"Data **{dataset.name}** · protocol **{config.protocol}** · seeds **{', '.join(map(str, seeds))}** · "
    f"augmenters **{', '.join(aug['augmenters'])}** ({budget}, {aug['target']}) · metrics on the test split, "
    "training and validation items excluded from the ranking."
)

if st.button("Run comparison", type="primary", key="run_compare", disabled=not models):
    report, bar = streamlit_progress("Training and evaluating")
    with friendly_errors("run the comparison"):
        result, was_cached = cached_experiment(dataset, config, report)
        st.session_state[EXPERIMENT] = result
        if was_cached:
            st.toast("Loaded from cache (same data and settings).")
    bar.empty()

result = st.session_state.get(EXPERIMENT)
if result is None:
    st.info("Press **Run comparison** to train each model on the original and on the augmented training data.")
    st.stop()

slices = sorted(result.results["slice"].unique(), key=lambda s: (s != "all", s))
slice_name = st.selectbox("Slice of test users", slices, key="cmp_slice")
verdict(result, slice_name)
comparison_table(result, slice_name)
stats = bar_table(result.results, slice_name)
c1, c2 = st.columns(2)
metric = c1.selectbox("Chart metric", sorted(stats["metric"].unique()), key="cmp_metric")
k = c2.selectbox("k", sorted(stats["k"].unique()), key="cmp_k")
st.plotly_chart(compare_bars(stats, metric, int(k)), key="compare_chart")
st.download_button(
    "Download results (tidy CSV)", to_csv_bytes(result.results), "results.csv", "text/csv", key="download_results"
)
