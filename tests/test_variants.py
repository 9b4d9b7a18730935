"""Variant names and budget sweeps: ``method@budget`` parsing, and the Δ-vs-budget figure."""

from __future__ import annotations

import pandas as pd
import pytest

from recaug.core.errors import RecaugInputError
from recaug.core.variants import budget_label, parse_budget, split_variant, sweep, variant_name
from recaug.reporting.figures import budget_curve, sweep_points


def test_budgets_round_trip_through_variant_names() -> None:
    assert parse_budget("5%") == 0.05 and parse_budget("0.05") == 0.05 and parse_budget("2000") == 2000
    assert parse_budget("12.5%") == 0.125 and isinstance(parse_budget("2000"), int)
    assert budget_label(0.05) == "5%" and budget_label(0.125) == "12.5%" and budget_label(2000) == "2000"
    for budget in (0.01, 0.2, 0.5, 300):
        assert split_variant(variant_name("similarity", budget)) == ("similarity", budget)
    assert split_variant("similarity") == ("similarity", None) and variant_name("random") == "random"
    assert sweep(["a", "b"], [0.02, 100]) == ["a@2%", "a@100", "b@2%", "b@100"]
    with pytest.raises(RecaugInputError, match="cannot read the budget 'lots'"):
        parse_budget("lots")


def _significance() -> pd.DataFrame:
    rows = []
    for variant, delta in (("sim@10%", -0.05), ("sim@2%", -0.01), ("sim@5%", -0.02), ("other", 0.3)):
        for model in ("bpr", "pop"):
            rows.append(
                {
                    "model": model,
                    "variant": variant,
                    "slice": "all",
                    "metric": "recall",
                    "k": 20,
                    "delta": delta,
                    "ci_low": delta - 0.01,
                    "ci_high": delta + 0.02,
                    "p_ttest": 0.04,
                    "p_wilcoxon": 0.25,
                }
            )
    return pd.DataFrame(rows)


def test_budget_curve_draws_one_line_per_method_and_model_in_budget_order() -> None:
    significance = _significance()
    points = sweep_points(significance, "recall", 20)
    assert set(points["variant"]) == {"sim@2%", "sim@5%", "sim@10%"}  # variants without a budget are not sweep points
    figure = budget_curve(significance, "recall", 20)
    traces = {trace.name: trace for trace in figure.data}
    assert set(traces) == {"sim · bpr", "sim · pop"}
    bpr = traces["sim · bpr"]
    assert list(bpr.x) == [2.0, 5.0, 10.0] and list(bpr.y) == [-0.01, -0.02, -0.05]
    assert list(bpr.error_y.array) == pytest.approx([0.02] * 3) and list(bpr.error_y.arrayminus) == pytest.approx(
        [0.01] * 3
    )
    assert "95% CI" in bpr.hovertemplate and "% of training interactions" in figure.layout.xaxis.title.text
    assert sweep_points(significance.iloc[0:0], "recall", 20).empty and sweep_points(None, "recall", 20).empty


def test_variants_sort_by_method_then_budget() -> None:
    from recaug.core.variants import ordered_variants

    names = ["sim@10%", "random", "sim@2%", "sim@500", "sim@20%", "sim", "sim@2%"]
    assert ordered_variants(names) == ["random", "sim", "sim@2%", "sim@10%", "sim@20%", "sim@500"]


def test_variant_is_a_typed_value_that_round_trips_its_name() -> None:
    from recaug.core.variants import Variant
    from recaug.experiment import ExperimentConfig

    assert Variant.parse("similarity@5%") == Variant("similarity", 0.05)
    assert Variant.parse("random@500") == Variant("random", 500) and Variant.parse("random").budget is None
    for name in ("similarity@5%", "random@500", "llm-interactions", "random@0.5%"):
        assert Variant.parse(name).name == name
    config = ExperimentConfig(augmenters=["similarity@2%", "random"])
    assert config.variants() == [Variant("similarity", 0.02), Variant("random")]
