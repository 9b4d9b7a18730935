"""Compare: baseline vs augmented models on the identical, untouched test split, with significance."""

from __future__ import annotations

import streamlit as st

from recaug.augment.options import describe_methods
from recaug.cost import cost_table
from recaug.data.splits import protocol_summary
from recaug.evaluate.significance import significance_table
from recaug.experiment import ExperimentConfig, compare_table
from recaug.export import to_csv_bytes
from recaug.figures import budget_curve, metric_bars, sweep_points
from recaug.models import MODELS
from recaug.models.tuned import UNTUNED_WARNING, strong_baselines
from recaug.report import build_report
from recaug.runs import record_comparison
from recaug.variants import parse_budget, sweep
from ui.cached import cached_experiment, cached_value, config_key, result_store
from ui.compare_view import comparison_table, cost_view, merged_table, verdict
from ui.errors import friendly_errors
from ui.page import page_setup
from ui.progress import streamlit_progress
from ui.state import (
    EXPERIMENT,
    EXPERIMENT_KEY,
    LAST_RUN,
    augment_config,
    current_dataset,
    recalled,
    remember,
)

DEFAULT_SHOWN = ("ndcg", "recall", "precision", "hit")
SWEEP_CHOICES = ["1%", "2%", "5%", "10%", "20%", "50%"]


def add_models(extra: list[str]) -> None:
    """Button callback: add ``extra`` to the chosen models (the widget is rebuilt from the remembered list)."""
    chosen = recalled("cmp_models", [])
    remember("cmp_models", [*chosen, *(m for m in extra if m not in chosen)])
    st.session_state.pop("cmp_models", None)


page_setup("Compare")
st.title("Compare before and after")
dataset = current_dataset()
aug = augment_config()
if not aug["augmenters"]:
    st.warning("No augmentation method is selected; choose one on the Augment page.")
    st.page_link("pages/1_Augment.py", label="Go to Augment", icon=":material/science:")
    st.stop()

left, mid, right = st.columns([3, 1.3, 0.8])
models = remember(
    "cmp_models",
    left.multiselect(
        "Models",
        MODELS.names(),
        default=recalled("cmp_models", [m for m in ("pop", "itemknn", "bpr") if m in MODELS]),
        key="cmp_models",
        help="\n".join(f"- **{n}**: {MODELS.get(n).description}" for n in MODELS.names()),
    ),
)
protocol = aug.get("protocol", "random-811")
mid.selectbox(
    "Split protocol",
    [protocol],
    disabled=True,
    key="cmp_protocol_shown",
    help=f"{protocol_summary(protocol)}. Chosen on the Augment page, with the seed, so every page uses one split.",
)
n_seeds = remember(
    "cmp_seeds",
    right.number_input(
        "Seeds",
        1,
        5,
        recalled("cmp_seeds", 1),
        key="cmp_seeds",
        help="Each seed re-splits the data and re-trains every model; 3+ gives p-values.",
    ),
)
sweep_budgets = remember(
    "cmp_sweep",
    st.multiselect(
        "Budget sweep (optional)",
        SWEEP_CHOICES,
        default=recalled("cmp_sweep", []),
        key="cmp_sweep",
        help="Compare each method at several budgets against one shared baseline: a dose-response curve of Δ "
        "against budget. Empty: the Augment page's budget.",
    ),
)
seeds = [int(aug["seed"]) + offset for offset in range(int(n_seeds))]
sweep_budgets = sorted(sweep_budgets, key=parse_budget)
variants = sweep(aug["augmenters"], [parse_budget(b) for b in sweep_budgets]) if sweep_budgets else aug["augmenters"]
config = ExperimentConfig(
    protocol=protocol,
    augmenters=variants,
    augmenter_params=aug["augmenter_params"],
    budget=aug["budget"],
    target=aug["target"],
    models=models,
    seeds=seeds,
)
if sweep_budgets:
    budget = "budgets " + ", ".join(sweep_budgets)
else:
    budget = f"{aug['budget']:.0%} of training" if isinstance(aug["budget"], float) else f"{aug['budget']:,} rows"
methods = describe_methods(aug["augmenters"], aug.get("augmenter_params", {}))
st.caption(
    f"Data **{dataset.name}** · protocol **{protocol}** · seeds **{', '.join(map(str, seeds))}** · augmenters "
    f"**{methods}** ({budget}, {aug['target']}) · metrics on the test split, training and "
    "validation items excluded from the ranking."
)

if st.button("Run comparison", type="primary", key="run_compare", disabled=not models):
    report, bar = streamlit_progress("Training and evaluating")
    with friendly_errors("run the comparison"):
        result, was_cached = cached_experiment(dataset, config, report)
        key = config_key(dataset, config.to_dict())
        st.session_state[EXPERIMENT], st.session_state[EXPERIMENT_KEY] = result, key
        if was_cached:
            st.toast("Loaded from cache (same data and settings).")
        else:
            report(0.99, "saving the run")
            significance = cached_value("sig:" + key, lambda: significance_table(result))
            recorded = record_comparison(dataset, result, save=True, significance=significance)
            st.session_state[LAST_RUN] = recorded
            result_store().put("recorded:" + key, recorded)
    bar.empty()

result = st.session_state.get(EXPERIMENT)
if result is None:
    st.info("Press **Run comparison** to train each model on the original and on the augmented training data.")
    st.stop()

key = st.session_state[EXPERIMENT_KEY]
with friendly_errors("compute significance"):
    significance = cached_value("sig:" + key, lambda: significance_table(result))
slices = sorted(result.results["slice"].unique(), key=lambda s: (s != "all", s))
slice_name = st.selectbox(
    "Slice of test users",
    slices,
    key="cmp_slice",
    help="cold/warm: test items by training popularity; activity quartiles of users; "
    "users touched or untouched by augmentation.",
)
table = merged_table(result.results, significance, slice_name)
available = list(dict.fromkeys(table["metric"]))
shown = st.multiselect(
    "Metrics in the table",
    available,
    default=[m for m in available if m in DEFAULT_SHOWN],
    key="cmp_shown",
    help="Accuracy metrics by default; add coverage, Gini, novelty, ...",
)
table = table[table["metric"].isin(shown)].reset_index(drop=True)
verdict(table, result.results["seed"].nunique(), slice_name)
if not strong_baselines(result.config.models):
    st.caption(":material/warning: " + UNTUNED_WARNING)
    st.button(
        "Add bpr-tuned and EASE to the models",
        key="cmp_add_tuned",
        on_click=add_models,
        args=(["bpr-tuned", "ease"],),
        help="Then press Run comparison again. bpr-tuned fits 6 BPRs per variant and seed (~45 s on 2 cores).",
    )
comparison_table(table)
c1, c2 = st.columns(2)
metrics = sorted(result.results["metric"].unique())
metric = c1.selectbox(
    "Chart metric", metrics, index=metrics.index("ndcg") if "ndcg" in metrics else 0, key="cmp_metric"
)
k = c2.selectbox("k", sorted(result.results.loc[result.results["metric"] == metric, "k"].unique()), key="cmp_k")
st.plotly_chart(
    metric_bars(
        compare_table(result.results, slice_name), metric, int(k), significance=significance, slice_name=slice_name
    ),
    key="compare_chart",
)
if len(sweep_points(significance, metric, int(k), slice_name)):
    st.plotly_chart(budget_curve(significance, metric, int(k), slice_name), key="sweep_chart")

cost = cost_table(result)
cost_view(cost)

d1, d2, d3, d4 = st.columns(4)
d1.download_button(
    "Results (tidy CSV)", to_csv_bytes(result.results), "results.csv", "text/csv", key="download_results"
)
d2.download_button(
    "Significance (CSV)", to_csv_bytes(significance), "significance.csv", "text/csv", key="download_significance"
)
recorded = result_store().get("recorded:" + key)
fidelity = recorded.fidelity if recorded is not None else None
html = cached_value(
    "report:" + key,
    lambda: build_report(
        result,
        dataset=dataset,
        fidelity=fidelity,
        significance=significance,
        run_id=recorded.run.run_id if recorded and recorded.run else None,
    ),
)
d3.download_button("Cost (CSV)", to_csv_bytes(cost), "cost.csv", "text/csv", key="download_cost")
d4.download_button("HTML report", html.encode("utf-8"), "recaug_report.html", "text/html", key="download_report")
if recorded is not None and recorded.run is not None:
    st.caption(f"Saved as run `{recorded.run.run_id}` — see the Runs page.")
