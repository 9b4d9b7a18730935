"""Slices, and a cross-check of the vectorised metrics against an independent loop implementation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recaug.data.dataset import Dataset
from recaug.data.splits import Split, make_split
from recaug.evaluate.protocol import UserMetrics
from recaug.evaluate.slices import (
    SliceContext,
    activity_quartiles,
    evaluate_sliced,
    slice_rows,
    standard_slices,
)
from recaug.models import create_model

ACCURACY = ("recall", "ndcg", "precision", "hit", "mrr", "map")


def reference_metrics(scores: np.ndarray, seen: set[int], relevant: set[int], k: int) -> dict[str, float]:
    """RecBole's definitions, one user at a time, written independently of recaug.evaluate.metrics."""
    ranked = sorted((i for i in range(len(scores)) if i not in seen), key=lambda i: (-scores[i], i))[:k]
    hits = [item in relevant for item in ranked]
    ideal = sum(1 / math.log2(r + 2) for r in range(min(len(relevant), k)))
    dcg = sum(1 / math.log2(r + 2) for r, hit in enumerate(hits) if hit)
    precisions = [sum(hits[: r + 1]) / (r + 1) for r, hit in enumerate(hits) if hit]
    first = hits.index(True) if any(hits) else None
    return {
        "recall": sum(hits) / len(relevant),
        "precision": sum(hits) / k,
        "hit": float(any(hits)),
        "ndcg": dcg / ideal,
        "mrr": 0.0 if first is None else 1 / (first + 1),
        "map": sum(precisions) / min(len(relevant), k),
    }


@pytest.fixture(scope="module")
def knn_run(ml100k: Dataset, ml100k_split: Split) -> tuple[object, ...]:
    train, valid, test = (ml100k.matrix(p) for p in (ml100k_split.train, ml100k_split.valid, ml100k_split.test))
    model = create_model("itemknn").fit(train)
    touched = ml100k_split.train[ml100k_split.train["user_idx"] % 3 == 0][["user_id"]].drop_duplicates()
    context = SliceContext.build(ml100k, ml100k_split, train, test, changed_rows={"aug": [touched]}, ks=(10, 20))
    metrics, slices = evaluate_sliced(model, test, train + valid, context, [*ACCURACY, "coverage", "tail"])
    return model, train, valid, test, context, metrics, slices


def test_metrics_match_an_independent_implementation(knn_run: tuple[object, ...]) -> None:
    model, train, valid, test, _, metrics, _ = knn_run
    exclude = (train + valid).tocsr()
    for position in range(0, len(metrics.users), 41):
        user = int(metrics.users[position])
        scores = model.score(np.array([user]))[0]
        seen = set(exclude.indices[exclude.indptr[user] : exclude.indptr[user + 1]].tolist())
        relevant = set(test.indices[test.indptr[user] : test.indptr[user + 1]].tolist())
        for k in (10, 20):
            expected = reference_metrics(scores, seen, relevant, k)
            for name in ACCURACY:
                assert math.isclose(metrics.values[(name, k)][position], expected[name], abs_tol=1e-9), (name, k, user)


def test_item_slices_restrict_the_relevant_set(knn_run: tuple[object, ...]) -> None:
    model, train, valid, test, context, metrics, slices = knn_run
    exclude = (train + valid).tocsr()
    cold = context.cold_items
    popularity = np.asarray(train.sum(axis=0)).ravel()
    assert np.array_equal(cold, popularity <= np.quantile(popularity, 0.25))
    for name, keep in (("cold-items", cold), ("warm-items", ~cold)):
        sliced = slices[name]
        assert set(sliced.values) == {(m, k) for m in ACCURACY for k in (10, 20)} and not sliced.lists
        for position in range(0, len(sliced.users), max(1, len(sliced.users) // 8)):
            user = int(sliced.users[position])
            relevant = {i for i in test.indices[test.indptr[user] : test.indptr[user + 1]] if keep[i]}
            seen = set(exclude.indices[exclude.indptr[user] : exclude.indptr[user + 1]].tolist())
            expected = reference_metrics(model.score(np.array([user]))[0], seen, relevant, 10)
            for metric in ACCURACY:
                assert math.isclose(sliced.values[(metric, 10)][position], expected[metric], abs_tol=1e-9)
    cold_users = {u for u in metrics.users if cold[test.indices[test.indptr[u] : test.indptr[u + 1]]].any()}
    assert set(slices["cold-items"].users.tolist()) == cold_users


def test_user_slices_partition_the_evaluated_users(knn_run: tuple[object, ...]) -> None:
    *_, context, metrics, slices = knn_run
    users = set(metrics.users.tolist())
    quarters = [set(slices[f"activity-q{q}"].users.tolist()) for q in range(1, 5)]
    assert set().union(*quarters) == users and sum(map(len, quarters)) == len(users)
    degree = context.degree
    assert max(degree[list(quarters[0])]) <= min(degree[list(quarters[3])])
    touched, untouched = set(slices["touched:aug"].users.tolist()), set(slices["untouched:aug"].users.tolist())
    assert touched == {u for u in users if u % 3 == 0} and untouched == users - touched
    np.testing.assert_array_equal(slices["all"].values[("recall", 10)], metrics.values[("recall", 10)])
    assert set(slices["all"].lists) == {("coverage", 10), ("coverage", 20)}
    rows = pd.DataFrame(slice_rows("itemknn", "baseline", 0, slices))
    all_recall = rows[(rows["slice"] == "all") & (rows["metric"] == "recall") & (rows["k"] == 10)]["value"]
    assert math.isclose(all_recall.item(), metrics.values[("recall", 10)].mean())
    assert {"cold-items", "warm-items", "touched:aug", "activity-q4"} <= set(rows["slice"])


def test_quartiles_and_variants() -> None:
    assert activity_quartiles(np.array([1, 2, 3, 4, 5, 6, 7, 8])).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert activity_quartiles(np.array([5, 5, 5])).tolist() == [0, 0, 0]
    context = SliceContext(
        n_items=2,
        degree=np.array([1, 2]),
        cold_items=np.array([True, False]),
        cold_users=np.zeros(2, bool),
        test_cold=sp.csr_matrix((2, 2)),
        test_warm=sp.csr_matrix((2, 2)),
        ks=(1,),
        touched={"a": np.array([True, False]), "b": np.array([False, True])},
    )
    assert set(context.for_variant("baseline").touched) == {"a", "b"}
    assert set(context.for_variant("b").touched) == {"b"}
    metrics = UserMetrics(
        users=np.array([0, 1]), values={("recall", 1): np.array([1.0, 0.0])}, top=np.array([[1], [0]])
    )
    slices = standard_slices(metrics, context.for_variant("a"))
    assert set(slices) == {"all", "activity-q1", "activity-q4", "touched:a", "untouched:a"}


def test_cold_users_protocol_gets_cold_and_warm_user_slices(ml100k: Dataset) -> None:
    split = make_split(ml100k.interactions, "cold-users", 0, n=2)
    train, test = ml100k.matrix(split.train), ml100k.matrix(split.test)
    context = SliceContext.build(ml100k, split, train, test, ks=(10,))
    metrics, slices = evaluate_sliced(
        create_model("pop").fit(train), test, train + ml100k.matrix(split.valid), context, ["recall"]
    )
    cold_idx = set(ml100k.user_ids.get_indexer(split.cold_users).tolist())
    assert set(slices["cold-users"].users.tolist()) == cold_idx
    assert len(slices["warm-users"].users) + len(cold_idx) == len(metrics.users)
