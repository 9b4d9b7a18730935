"""Fidelity metrics against hand-built cases, and the report on real ML-100k training data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recaug.analysis.fidelity import (
    FIDELITY_COLUMNS,
    METRICS,
    REAL_METHOD,
    FidelityMetric,
    detection_auc,
    fidelity_report,
    fidelity_wide,
    gini,
    head_items,
    jaccard_distance_to_closest,
    js_distance,
    ks_statistic,
    log2_bin_edges,
)
from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.data.splits import Split


def _value(table: pd.DataFrame, method: str, metric: str) -> float:
    row = table[(table["method"] == method) & (table["metric"] == metric)]
    assert len(row) == 1, f"{method}/{metric}: {len(row)} rows"
    assert row["error"].iloc[0] == "", row["error"].iloc[0]
    return float(row["value"].iloc[0])


# --- pure statistics -------------------------------------------------------------------------------------------


def test_identical_samples_have_zero_ks_and_js(ml100k_train) -> None:
    degree = ml100k_train.user_degree()
    assert ks_statistic(degree, degree) == 0.0
    assert js_distance(degree, degree) == 0.0
    # Same distribution, different sample sizes: histogram shares are equal, so JS is still exactly 0.
    assert js_distance(degree, np.tile(degree, 3)) == 0.0


def test_obviously_different_samples_score_high(ml100k_train) -> None:
    degree = ml100k_train.user_degree()
    shifted = degree * 16 + 500
    assert ks_statistic(degree, shifted) == pytest.approx(1.0)
    assert js_distance(degree, shifted) > 0.95
    assert 0.0 < js_distance(degree, degree + 1) < js_distance(degree, shifted)


def test_ks_and_js_need_data() -> None:
    with pytest.raises(ValueError):
        ks_statistic(np.array([]), np.array([1.0]))
    with pytest.raises(ValueError):
        js_distance(np.array([1.0]), np.array([]))


def test_log2_bins_put_zero_alone_and_cover_the_maximum() -> None:
    edges = log2_bin_edges(9)
    assert list(edges) == [0, 1, 2, 4, 8, 16]
    assert np.histogram([0, 1, 2, 3, 9], bins=edges)[0].tolist() == [1, 1, 2, 0, 1]


def test_gini_hand_cases() -> None:
    assert gini(np.array([5, 5, 5, 5])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)  # (2*4*10)/(4*10) - 5/4
    assert gini(np.zeros(3)) == 0.0


def test_head_items_is_the_top_fifth_by_popularity() -> None:
    pop = np.array([1, 50, 3, 40, 2, 0, 9, 8, 7, 6])
    assert np.flatnonzero(head_items(pop)).tolist() == [1, 3]


def test_jaccard_distance_to_closest_hand_case() -> None:
    reference = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 1]]))
    query = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 0, 1, 0]]))
    distances = jaccard_distance_to_closest(query, reference)
    assert distances.tolist() == pytest.approx([0.0, 0.5, 2 / 3])
    own = jaccard_distance_to_closest(reference, reference, exclude_self=True)
    assert own.tolist() == pytest.approx([1.0, 1.0])


def test_detection_auc_is_half_for_the_same_distribution_and_high_for_a_shifted_one() -> None:
    rng = np.random.default_rng(0)
    real = rng.normal(size=(2000, 4))
    same = rng.normal(size=(2000, 4))
    shifted = rng.normal(loc=1.5, size=(2000, 4))
    assert abs(detection_auc(real, same, seed=0) - 0.5) < 0.05
    assert detection_auc(real, shifted, seed=0) > 0.95
    assert detection_auc(real, same, seed=3) == detection_auc(real, same, seed=3)  # seeded


# --- the report on real data ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def halves(ml100k: Dataset, ml100k_split: Split) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows split at random into a 'real' half and a 'synthetic' half: same distribution by design."""
    train = ml100k_split.train
    pick = np.random.default_rng(0).random(len(train)) < 0.5
    synthetic = train.loc[~pick, ["user_id", "item_id"]].assign(origin="half", confidence=1.0)
    return train[pick].reset_index(drop=True), synthetic.reset_index(drop=True)


@pytest.fixture(scope="module")
def report(ml100k: Dataset, halves) -> pd.DataFrame:
    real, half = halves
    rng = np.random.default_rng(1)
    random_rows = pd.DataFrame(
        {
            "user_id": rng.choice(ml100k.user_ids.to_numpy(), 3000),
            "item_id": rng.choice(ml100k.item_ids.to_numpy(), 3000),
            "origin": "random",
            "confidence": 0.5,
        }
    )
    real_user = real["user_id"].iloc[0]
    copied = real.loc[real["user_id"] == real_user, "item_id"]
    virtual = pd.concat(
        [
            pd.DataFrame({"user_id": "virtual:copy", "item_id": copied}),
            pd.DataFrame({"user_id": "virtual:odd", "item_id": ml100k.item_ids[:7]}),
        ]
    ).assign(origin="generator", confidence=0.9)
    already = real[["user_id", "item_id"]].head(400).assign(origin="echo", confidence=1.0)
    synthetic = pd.concat([half.sample(3000, random_state=0), random_rows, virtual, already], ignore_index=True)
    return fidelity_report(ml100k, real, synthetic, seed=0, max_detection_rows=2000)


def test_report_is_tidy_with_declared_ranges(report: pd.DataFrame) -> None:
    assert list(report.columns) == FIDELITY_COLUMNS
    assert set(report["method"]) == {REAL_METHOD, "half", "random", "generator", "echo"}
    assert (report["error"] == "").all(), report[report["error"] != ""]
    for metric in METRICS:
        assert metric.low < metric.high and metric.higher_is_better in (True, False, None)
        values = report.loc[report["metric"] == metric.name, "value"]
        assert ((values >= metric.low) & (values <= metric.high)).all(), metric.name


def test_same_distribution_is_undetectable_and_random_edges_are_not(report: pd.DataFrame) -> None:
    assert abs(_value(report, "half", "detection_auc") - 0.5) < 0.06
    assert abs(_value(report, "half", "detection_auc_same_users") - 0.5) < 0.06
    assert _value(report, "random", "detection_auc_same_users") > 0.8
    assert _value(report, "random", "detection_auc") > 0.8
    # Random edges flatten popularity: less concentrated, more long tail than the real graph.
    assert _value(report, "random", "gini_item_popularity") < _value(report, REAL_METHOD, "gini_item_popularity")
    assert _value(report, "random", "long_tail_share") > _value(report, REAL_METHOD, "long_tail_share")
    assert _value(report, "random", "item_popularity_ks") > 0.0


def test_same_user_detection_separates_targeting_from_item_choice(ml100k: Dataset, halves) -> None:
    """Real edges given only to light users: who got them is obvious, which items they got is not."""
    real, half = halves
    degree = real.groupby("user_id").size()
    light = degree[degree <= degree.quantile(0.25)].index
    targeted = half[half["user_id"].isin(light)].assign(origin="light")
    detection = [m for m in METRICS if m.group == "detection"]
    table = fidelity_report(ml100k, real, targeted, metrics=detection, seed=0, max_detection_rows=2000)
    assert _value(table, "light", "detection_auc") > 0.75
    assert abs(_value(table, "light", "detection_auc_same_users") - 0.5) < 0.07
    wrong_items = pd.DataFrame(
        {
            "user_id": targeted["user_id"].to_numpy(),
            "origin": "light-random",
            "item_id": np.random.default_rng(5).choice(ml100k.item_ids.to_numpy(), len(targeted)),
        }
    )
    report_random = fidelity_report(ml100k, real, wrong_items, metrics=detection, seed=0, max_detection_rows=2000)
    assert _value(report_random, "light-random", "detection_auc_same_users") > 0.75
    assert len(report_random) == 2


def test_edges_already_in_training_change_nothing(report: pd.DataFrame) -> None:
    """Identical data: synthetic rows that repeat training edges leave the graph, KS and JS at exactly 0."""
    for metric in ("user_degree_ks", "user_degree_js", "item_popularity_ks", "item_popularity_js", "novelty"):
        assert _value(report, "echo", metric) == 0.0, metric
    for metric in ("density", "gini_item_popularity", "long_tail_share", "items_without_interactions"):
        assert _value(report, "echo", metric) == pytest.approx(_value(report, REAL_METHOD, metric)), metric
    # Every edge of "half" is new, as recaug's own augmenters guarantee: a row of 1.0 says nothing, so none is shown.
    assert "novelty" not in set(report.loc[report["method"] == "half", "metric"])


def test_graph_statistics_match_a_direct_count(ml100k: Dataset, halves, report: pd.DataFrame) -> None:
    real, _ = halves
    n_pairs = real[["user_id", "item_id"]].drop_duplicates().shape[0]
    assert _value(report, REAL_METHOD, "density") == pytest.approx(n_pairs / (ml100k.n_users * ml100k.n_items))
    assert _value(report, REAL_METHOD, "items_without_interactions") == ml100k.n_items - real["item_id"].nunique()
    assert _value(report, "random", "synthetic_share") == pytest.approx(3000 / n_pairs, rel=0.01)


def test_generated_users_copy_rate_and_distance(report: pd.DataFrame) -> None:
    assert _value(report, "generator", "virtual_copy_rate") == 0.5  # one of two copies a real user exactly
    assert 0.0 <= _value(report, "generator", "distance_to_closest_record") <= 1.0
    assert 0.3 < _value(report, REAL_METHOD, "distance_to_closest_record") < 1.0  # real-to-real baseline
    # Methods without generated users get no privacy rows rather than fake zeros.
    assert report[(report["method"] == "random") & (report["group"] == "privacy")].empty


def test_wide_table_has_one_column_per_method(report: pd.DataFrame) -> None:
    wide = fidelity_wide(report)
    assert list(wide.columns) == [REAL_METHOD, "half", "random", "generator", "echo"]
    assert wide.index.get_level_values("metric")[0] == "user_degree_ks"
    assert math.isnan(wide.loc[("detection", "detection_auc"), REAL_METHOD])


def test_a_failing_metric_becomes_an_error_row(ml100k: Dataset, halves) -> None:
    real, half = halves

    def broken(_inputs: object) -> float:
        raise ZeroDivisionError("boom")

    metrics = [m for m in METRICS if m.group == "graph"] + [FidelityMetric("broken", "test", 0, 1, True, "x", broken)]
    table = fidelity_report(ml100k, real, half.head(500), metrics=metrics, text_features=False)
    bad = table[table["metric"] == "broken"]
    assert len(bad) == 1 and bad["error"].iloc[0] == "ZeroDivisionError: boom" and math.isnan(bad["value"].iloc[0])
    assert _value(table, "half", "density") > _value(table, REAL_METHOD, "density")


def test_llm_rates_come_from_the_log(ml100k: Dataset, halves) -> None:
    real, half = halves
    log = pd.DataFrame(
        {
            "augmenter": ["half"] * 5 + ["other"],
            "accepted": [True, False, False, True, False, False],
            # The LLM augmenters' own reasons (augment.llm.llm_common); a row lost to the budget is not a rejection.
            "reason": [
                "accepted",
                "unmapped: the answer names no catalog item",
                "LLM said no: P(yes)=0.20",
                "accepted",
                "dropped after cleaning (over budget, duplicate or already in training)",
                "x",
            ],
        }
    )
    llm = [m for m in METRICS if m.group == "llm"]
    table = fidelity_report(ml100k, real, half.head(200), llm_log=log, metrics=llm, text_features=False)
    assert _value(table, "half", "llm_rejection_rate") == 0.5  # 2 of the 4 calls the LLM decided
    assert _value(table, "half", "llm_hallucination_rate") == 0.2  # 1 of 5 calls named no catalog item
    # A log without the needed columns is an error row, not a crash.
    table = fidelity_report(ml100k, real, half.head(200), llm_log=log[["augmenter"]], metrics=llm, text_features=False)
    assert (table["error"] != "").all() and len(table) == 2


def test_rows_from_several_seeds_are_refused(ml100k: Dataset, halves) -> None:
    real, half = halves
    mixed = half.head(10).assign(seed=[0, 1] * 5)
    with pytest.raises(RecaugInputError, match="several seeds"):
        fidelity_report(ml100k, real, mixed, text_features=False)
