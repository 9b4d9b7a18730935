"""Beyond-accuracy metrics: hand-computed tiny cases and a loop-based reference on real rankings."""

from __future__ import annotations

import math

import numpy as np

from recaug.data.dataset import Dataset
from recaug.data.splits import Split
from recaug.evaluate.beyond import (
    Popularity,
    gini_index,
    item_coverage,
    list_metrics,
    per_user_beyond,
    with_beyond_metrics,
)
from recaug.evaluate.catalog import ALL_METRICS, METRIC_INFO
from recaug.evaluate.metrics import ACCURACY_METRICS
from recaug.evaluate.protocol import evaluate_model
from recaug.models import create_model


def test_catalog_covers_every_metric() -> None:
    from recaug.evaluate.beyond import BEYOND_METRICS

    assert set(ALL_METRICS) == set(ACCURACY_METRICS) | set(BEYOND_METRICS)
    assert METRIC_INFO["gini"].higher_is_better is False and METRIC_INFO["avg_pop"].higher_is_better is None


def test_hand_computed_list_metrics() -> None:
    top = np.array([[0, 1], [0, 2]])
    assert item_coverage(top, 4) == 0.75
    # counts over 4 items sorted: [0, 1, 1, 2]; Gini = sum((2i - n - 1) c_i) / (n sum c) = (-3*0 - 1 + 1 + 3*2) / 16
    assert math.isclose(gini_index(top, 4), 6 / 16)
    assert gini_index(np.array([[0, 1], [2, 3]]), 4) == 0.0  # perfectly even
    assert math.isclose(gini_index(np.array([[0], [0], [0]]), 4), 3 / 4)  # one item only: (n - 1) / n
    assert list_metrics(top, 4, (1, 2)) == {
        ("coverage", 1): 0.25,
        ("coverage", 2): 0.75,
        ("gini", 1): 0.75,
        ("gini", 2): 6 / 16,
    }


def test_hand_computed_per_user_metrics() -> None:
    popularity = Popularity(counts=np.array([9.0, 3.0, 0.0, 1.0, 1.0]), n_users=9)
    # Head = the top 20% of 5 items = 1 item (count 9); the rest is tail.
    assert popularity.tail.tolist() == [False, True, True, True, True]
    values = per_user_beyond(np.array([[0, 2], [1, 3]]), popularity, (1, 2))
    np.testing.assert_allclose(values[("avg_pop", 1)], [9.0, 3.0])
    np.testing.assert_allclose(values[("avg_pop", 2)], [4.5, 2.0])
    np.testing.assert_allclose(values[("tail", 2)], [0.5, 1.0])
    info = [-math.log2(10 / 10), -math.log2(1 / 10), -math.log2(4 / 10), -math.log2(2 / 10)]
    np.testing.assert_allclose(values[("novelty", 2)], [(info[0] + info[1]) / 2, (info[2] + info[3]) / 2])


def test_matches_a_loop_reference_on_real_rankings(ml100k: Dataset, ml100k_split: Split) -> None:
    train, valid, test = (ml100k.matrix(p) for p in (ml100k_split.train, ml100k_split.valid, ml100k_split.test))
    metrics = evaluate_model(create_model("itemknn").fit(train), test, train + valid, ks=(10, 50), metrics=("recall",))
    popularity = Popularity.from_matrix(train)
    full = with_beyond_metrics(metrics, popularity, (10, 50))
    counts: dict[int, int] = {}
    for row in ml100k_split.train["item_idx"]:
        counts[row] = counts.get(row, 0) + 1
    ranked = sorted(counts.values(), reverse=True)
    head_cut = ranked[math.ceil(0.2 * ml100k.n_items) - 1]
    for position in range(0, len(metrics.users), 97):
        items = metrics.top[position, :50]
        pops = [counts.get(int(i), 0) for i in items]
        assert math.isclose(full.values[("avg_pop", 50)][position], sum(pops) / 50)
        novelty = sum(-math.log2((p + 1) / (ml100k.n_users + 1)) for p in pops) / 50
        assert math.isclose(full.values[("novelty", 50)][position], novelty, rel_tol=1e-9)
        assert math.isclose(full.values[("tail", 50)][position], sum(p < head_cut for p in pops) / 50)
    recommended = {int(i) for row in metrics.top[:, :10] for i in row}
    assert math.isclose(item_coverage(metrics.top[:, :10], ml100k.n_items), len(recommended) / ml100k.n_items)
