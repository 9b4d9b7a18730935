"""Significance on constructed cases with known answers, and the table an experiment writes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from recaug.data.dataset import Dataset
from recaug.evaluate.significance import (
    SIGNIFICANCE_COLUMNS,
    bootstrap_means,
    seed_tests,
    significance_table,
    verdict,
)
from recaug.evaluate.slices import SliceValues
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.export import write_experiment


def constructed(
    shift: float,
    seeds: list[int],
    *,
    noise: float = 0.0,
    jitter: float = 0.0,
    n_users: int = 200,
) -> SimpleNamespace:
    """variant = baseline + shift + ``jitter`` per seed + zero-mean per-user ``noise``; per-user values kept."""
    rows, store = [], {}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        users = np.arange(n_users)
        base = rng.random(n_users)
        half = rng.normal(size=n_users // 2)
        variant = base + shift + jitter * rng.normal() + noise * np.concatenate([half, -half])  # noise mean 0
        for name, values in (("baseline", base), ("aug", variant)):
            store[("m", name, seed)] = {
                "all": SliceValues(users=users, values={("ndcg", 10): values}, lists={("coverage", 10): 0.5})
            }
            rows.append(
                {
                    "model": "m",
                    "variant": name,
                    "seed": seed,
                    "slice": "all",
                    "metric": "ndcg",
                    "k": 10,
                    "value": float(values.mean()),
                }
            )
            rows.append(
                {
                    "model": "m",
                    "variant": name,
                    "seed": seed,
                    "slice": "all",
                    "metric": "coverage",
                    "k": 10,
                    "value": 0.5,
                }
            )
    return SimpleNamespace(results=pd.DataFrame(rows), slice_values=store)


def row(table: pd.DataFrame, metric: str = "ndcg") -> pd.Series:
    return table[table["metric"] == metric].iloc[0]


def test_identical_variants_have_no_difference() -> None:
    table = significance_table(constructed(0.0, [0, 1, 2]))
    assert list(table.columns) == SIGNIFICANCE_COLUMNS
    ndcg = row(table)
    assert ndcg["delta"] == 0 and ndcg["ci_low"] == 0 and ndcg["ci_high"] == 0
    assert ndcg["p_ttest"] == 1.0 and ndcg["p_wilcoxon"] == 1.0
    coverage = row(table, "coverage")
    assert np.isnan(coverage["ci_low"]) and coverage["p_ttest"] == 1.0  # list-level: no per-user bootstrap
    assert verdict(table).tolist() == ["no clear difference", "no CI"]


def test_a_clear_shift_is_detected() -> None:
    table = significance_table(constructed(0.05, list(range(6)), noise=0.02, jitter=0.002))
    ndcg = row(table)
    assert ndcg["delta"] == pytest.approx(0.05, abs=0.005)
    assert 0.045 < ndcg["ci_low"] < ndcg["delta"] < ndcg["ci_high"] < 0.055
    assert ndcg["p_ttest"] < 1e-4
    assert ndcg["p_wilcoxon"] == pytest.approx(2 / 2**6)  # exact two-sided minimum for 6 positive deltas
    assert verdict(table).iloc[0] == "better"
    worse = significance_table(constructed(-0.05, list(range(6)), noise=0.02, jitter=0.002))
    assert row(worse)["ci_high"] < 0 and verdict(worse).iloc[0] == "worse"


def test_noise_alone_gives_a_ci_around_zero() -> None:
    ndcg = row(significance_table(constructed(0.0, [0, 1, 2], noise=0.1)))
    assert ndcg["ci_low"] < 0 < ndcg["ci_high"]
    assert ndcg["p_ttest"] > 0.05


def test_a_single_seed_gives_nan_tests_but_a_ci() -> None:
    ndcg = row(significance_table(constructed(0.05, [0], noise=0.02)))
    assert np.isnan(ndcg["p_ttest"]) and np.isnan(ndcg["p_wilcoxon"])
    assert ndcg["ci_low"] > 0


def test_seed_tests_edge_cases() -> None:
    p_t, p_w = seed_tests(np.array([[0.1, 0.1, 0.1], [0.0, 0.0, 0.0], [0.1, np.nan, np.nan], [0.1, 0.2, np.nan]]))
    assert np.isnan(p_t[0]) and p_w[0] == pytest.approx(0.25)  # constant non-zero: t undefined; Wilcoxon n=3
    assert p_t[1] == 1.0 and p_w[1] == 1.0
    assert np.isnan(p_t[2]) and np.isnan(p_w[2])
    assert 0 < p_t[3] < 1 and p_w[3] == pytest.approx(0.5)


def test_bootstrap_is_seeded_and_paired() -> None:
    diffs = np.random.default_rng(0).normal(size=(50, 2))
    np.testing.assert_array_equal(bootstrap_means(diffs, 100, ("a",)), bootstrap_means(diffs, 100, ("a",)))
    assert not np.array_equal(bootstrap_means(diffs, 100, ("a",)), bootstrap_means(diffs, 100, ("b",)))
    # Each replicate is the mean of 50 resampled users: its average over replicates is close to the sample mean.
    np.testing.assert_allclose(bootstrap_means(diffs, 4000, ("a",)).mean(axis=0), diffs.mean(axis=0), atol=0.02)


def test_experiment_writes_significance_and_protocol(planted: Dataset, tmp_path: Path) -> None:
    config = ExperimentConfig(
        protocol="cold-users",
        protocol_params={"n": 2},
        augmenters=["random"],
        models=["pop", "ease"],
        seeds=[0, 1],
        budget=40,
    )
    result = run_experiment(planted, config)
    table = significance_table(result)
    assert set(table["variant"]) == {"random"} and set(table["model"]) == {"pop", "ease"}
    assert {"all", "cold-users", "warm-users", "touched:random", "untouched:random"} <= set(table["slice"])
    assert table[table["metric"] == "ndcg"]["ci_low"].notna().all()
    written = {p.name for p in write_experiment(result, tmp_path)}
    assert {"results.csv", "significance.csv", "config.json"} <= written
    on_disk = pd.read_csv(tmp_path / "significance.csv")
    assert list(on_disk.columns) == SIGNIFICANCE_COLUMNS and len(on_disk) == len(table)
    config_json = json.loads((tmp_path / "config.json").read_text())
    assert config_json["protocol"] == "cold-users" and config_json["protocol_params"] == {"n": 2}


def test_benjamini_hochberg_matches_scipy_and_skips_missing_p_values() -> None:
    from scipy.stats import false_discovery_control

    from recaug.evaluate.significance import benjamini_hochberg

    p = pd.Series([0.01, np.nan, 0.04, 0.03, 0.5, 0.002, np.nan])
    q = benjamini_hochberg(p)
    valid = p.notna()
    np.testing.assert_allclose(q[valid], false_discovery_control(p[valid].to_numpy(), method="bh"))
    assert q[~valid].isna().all() and (q[valid] >= p[valid]).all()
    assert benjamini_hochberg(pd.Series([np.nan, np.nan])).isna().all()
