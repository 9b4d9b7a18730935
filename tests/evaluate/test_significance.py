"""Significance on constructed cases with known answers, its calibration, and the table an experiment writes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from recaug.data.dataset import Dataset
from recaug.evaluate.significance import (
    AA_CONTROL,
    NO_DIFFERENCE,
    NO_VERDICT,
    SIGNIFICANCE_COLUMNS,
    TOO_FEW_USERS,
    seed_tests,
    significance_from_results,
    significance_table,
    verdict_sentence,
    with_verdicts,
)
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.reporting.export import write_experiment


def constructed(
    shift: float, seeds: list[int], *, jitter: float = 0.0, n_users: int = 200, variant: str = "aug"
) -> SimpleNamespace:
    """Per seed: baseline value b_s, variant value b_s + shift + jitter * N(0, 1); ndcg@10 and coverage@10."""
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        base = float(rng.random())
        shifted = base + shift + jitter * float(rng.normal())
        for name, value in (("baseline", base), (variant, shifted)):
            for metric in ("ndcg", "coverage"):
                rows.append(
                    {
                        "model": "m",
                        "variant": name,
                        "seed": seed,
                        "slice": "all",
                        "metric": metric,
                        "k": 10,
                        "value": value,
                        "n_users": n_users,
                    }
                )
    return SimpleNamespace(results=pd.DataFrame(rows))


def row(table: pd.DataFrame, metric: str = "ndcg") -> pd.Series:
    return table[table["metric"] == metric].iloc[0]


def test_identical_variants_have_no_difference() -> None:
    table = significance_table(constructed(0.0, [0, 1, 2]))
    assert list(table.columns) == SIGNIFICANCE_COLUMNS
    ndcg = row(table)
    assert ndcg["delta"] == 0 and ndcg["ci_low"] == 0 and ndcg["ci_high"] == 0
    assert ndcg["p_ttest"] == 1.0 and ndcg["p_wilcoxon"] == 1.0
    assert ndcg["n_seeds"] == 3 and ndcg["n_users"] == 200
    assert table["verdict"].tolist() == [NO_DIFFERENCE, NO_DIFFERENCE]  # list-level metrics get a verdict too


def test_a_clear_shift_is_detected_with_a_seed_level_interval() -> None:
    table = significance_table(constructed(0.05, list(range(6)), jitter=0.002))
    ndcg = row(table)
    assert ndcg["delta"] == pytest.approx(0.05, abs=0.003)
    # 95% t-interval over 6 seeds: half-width ~ t(5) * 0.002 / sqrt(6), a few thousandths.
    assert 0.044 < ndcg["ci_low"] < ndcg["delta"] < ndcg["ci_high"] < 0.056
    assert ndcg["p_ttest"] < 1e-4 and ndcg["q_ttest"] < 1e-4
    assert ndcg["p_wilcoxon"] == pytest.approx(2 / 2**6)  # exact two-sided minimum for 6 positive deltas
    assert ndcg["verdict"] == "better"
    worse = significance_table(constructed(-0.05, list(range(6)), jitter=0.002))
    assert row(worse)["ci_high"] < 0 and row(worse)["verdict"] == "worse"


def test_seed_noise_larger_than_the_shift_is_no_clear_difference() -> None:
    ndcg = row(significance_table(constructed(0.005, [0, 1, 2], jitter=0.02)))
    assert ndcg["ci_low"] < 0 < ndcg["ci_high"]
    assert ndcg["verdict"] == NO_DIFFERENCE


def test_fewer_than_three_seeds_gives_deltas_but_no_verdict() -> None:
    one = row(significance_table(constructed(0.05, [0])))
    assert one["delta"] == pytest.approx(0.05) and np.isnan(one["p_ttest"]) and np.isnan(one["ci_low"])
    assert one["verdict"] == NO_VERDICT
    two = row(significance_table(constructed(0.05, [0, 1], jitter=0.001)))
    assert two["verdict"] == NO_VERDICT and two["n_seeds"] == 2


def test_a_slice_with_few_users_gets_no_interval_and_no_verdict() -> None:
    ndcg = row(significance_table(constructed(0.05, [0, 1, 2], jitter=0.001, n_users=1)))
    assert ndcg["verdict"] == TOO_FEW_USERS
    assert np.isnan(ndcg["ci_low"]) and np.isnan(ndcg["ci_high"])
    assert row(significance_table(constructed(0.05, [0, 1, 2], jitter=0.001, n_users=30)))["verdict"] == "better"


def test_popularity_metrics_have_no_good_direction() -> None:
    results = constructed(0.05, list(range(5)), jitter=0.001).results
    results["metric"] = results["metric"].replace({"coverage": "popularity"})
    table = significance_from_results(results)
    assert row(table, "popularity")["verdict"] == "higher"


def test_seed_tests_edge_cases() -> None:
    p_t, p_w = seed_tests(np.array([[0.1, 0.1, 0.1], [0.0, 0.0, 0.0], [0.1, np.nan, np.nan], [0.1, 0.2, np.nan]]))
    assert p_t[0] == 0.0 and p_w[0] == pytest.approx(0.25)  # no spread at all: t is infinite; Wilcoxon n=3
    assert p_t[1] == 1.0 and p_w[1] == 1.0
    assert np.isnan(p_t[2]) and np.isnan(p_w[2])
    assert 0 < p_t[3] < 1 and p_w[3] == pytest.approx(0.5)


def test_every_row_bh_selects_has_an_interval_that_excludes_zero() -> None:
    """BH picks the verdicts; each picked row's own 95% interval excludes 0 (q <= alpha implies p <= alpha)."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(60):
        shift = (0.03, 0.012, 0.0)[i % 3]  # clear, borderline, none
        for seed in range(4):
            base = float(rng.random())
            for name, value in (("baseline", base), ("aug", base + shift + 0.006 * float(rng.normal()))):
                rows.append(dict(model="m", variant=name, seed=seed, slice="all", metric="ndcg", k=i, value=value))
    table = significance_from_results(pd.DataFrame(rows).assign(n_users=500))
    excludes_zero = (table["ci_low"] > 0) | (table["ci_high"] < 0)
    selected = table["q_ttest"] <= 0.05
    assert 0 < selected.sum() < len(table)
    assert excludes_zero[selected].all()
    assert (excludes_zero & ~selected).any()  # borderline rows: the interval excludes 0, the corrected verdict does not
    expected = np.where(table["delta"] > 0, "better", "worse")
    assert (table.loc[selected, "verdict"] == expected[selected]).all()
    assert (table.loc[table["k"] % 3 == 0, "verdict"] == "better").all()  # every clear shift is found
    assert (table.loc[~selected, "verdict"] == NO_DIFFERENCE).all()


def test_null_deltas_are_judged_no_clear_difference_in_95_percent_of_rows() -> None:
    """Monte Carlo: 400 experiments x 12 rows of pure seed noise (3 seeds) -> false verdicts <= 5%."""
    rng = np.random.default_rng(0)
    false = total = 0
    for _ in range(400):
        deltas = rng.normal(scale=0.01, size=(12, 3))
        table = pd.DataFrame(
            {
                "model": "m",
                "variant": "aug",
                "slice": "all",
                "metric": "ndcg",
                "k": np.arange(12),
                "delta": deltas.mean(axis=1),
                "se": deltas.std(axis=1, ddof=1) / np.sqrt(3),
                "p_ttest": seed_tests(deltas)[0],
                "n_seeds": 3,
                "n_users": 500,
            }
        )
        verdicts = with_verdicts(table)["verdict"]
        false += int((verdicts != NO_DIFFERENCE).sum())
        total += len(verdicts)
    assert false / total <= 0.05


def test_a_single_raw_significant_row_among_many_is_not_a_verdict() -> None:
    """BH over the rows shown: p = 0.03 is 'better' alone but not among 20 null rows."""
    base = dict(model="m", variant="aug", slice="all", metric="ndcg", delta=0.01, se=0.002, n_seeds=3, n_users=500)
    alone = with_verdicts(pd.DataFrame([{**base, "k": 10, "p_ttest": 0.03}]))
    assert alone["verdict"].iloc[0] == "better"
    many = pd.DataFrame([{**base, "k": k, "p_ttest": 0.03 if k == 0 else 0.6} for k in range(20)])
    assert with_verdicts(many)["verdict"].iloc[0] == NO_DIFFERENCE


def test_aa_control_sets_the_noise_floor_and_is_its_own_family() -> None:
    noisy = constructed(0.0, list(range(5)), jitter=0.01, variant=AA_CONTROL).results
    real = constructed(0.05, list(range(5)), jitter=0.001).results
    results = pd.concat([noisy, real[real["variant"] != "baseline"]], ignore_index=True)
    table = significance_from_results(results)
    aug, control = row(table[table["variant"] == "aug"]), row(table[table["variant"] == AA_CONTROL])
    assert control["verdict"] == NO_DIFFERENCE
    assert aug["noise_floor"] == pytest.approx(control["noise_floor"]) and 0.003 < aug["noise_floor"] < 0.03
    assert aug["verdict"] == "better" and abs(aug["delta"]) > aug["noise_floor"]
    assert "seeds" in verdict_sentence(aug) and "200 users" in verdict_sentence(aug)
    inside = verdict_sentence({**aug.to_dict(), "delta": aug["noise_floor"] / 2, "verdict": NO_DIFFERENCE})
    assert "inside the A/A noise floor" in inside


def test_experiment_writes_significance_protocol_and_every_seeds_split(planted: Dataset, tmp_path: Path) -> None:
    from recaug.analysis.fidelity import result_split

    config = ExperimentConfig(
        protocol="cold-users",
        protocol_params={"n": 2},
        augmenters=["random"],
        models=["pop", "ease"],
        seeds=[0, 1, 2],
        budget=40,
    )
    result = run_experiment(planted, config)
    table = significance_table(result)
    assert set(table["variant"]) == {"random", AA_CONTROL} and set(table["model"]) == {"pop", "ease"}
    assert {"all", "cold-users", "warm-users", "touched:random", "untouched:random"} <= set(table["slice"])
    everyone = table[(table["slice"] == "all") & (table["metric"] == "ndcg")]
    assert everyone["ci_low"].notna().all() and (everyone["n_users"] == 60).all() and (everyone["n_seeds"] == 3).all()
    small = table[table["n_users"] < 30]
    assert len(small) and (small["verdict"] == TOO_FEW_USERS).all()
    # pop and EASE are deterministic: the A/A control reproduces the baseline exactly, the noise floor is 0.
    assert (table[table["variant"] == AA_CONTROL]["delta"] == 0).all()
    # One split object per seed, with the protocol parameters, carried to every consumer.
    assert sorted(result.splits) == [0, 1, 2] and set(result.split["seed"]) == {0, 1, 2}
    for seed, split in result.splits.items():
        assert split.params == {"n": 2, "share": 0.2}
        assert result_split(result, planted, seed) is split
        rows_of_seed = result.split[(result.split["seed"] == seed) & (result.split["part"] == "train")]
        assert len(rows_of_seed) == len(split.train)
    default_params = config.split_spec().of("cold-users").build(planted.interactions, 0)
    assert len(default_params.train) != len(result.splits[0].train)  # n=3 would have trained on more rows
    written = {p.name for p in write_experiment(result, tmp_path)}
    assert {"results.csv", "significance.csv", "config.json", "split.csv"} <= written
    on_disk = pd.read_csv(tmp_path / "significance.csv")
    assert list(on_disk.columns) == SIGNIFICANCE_COLUMNS and len(on_disk) == len(table)
    assert set(on_disk["verdict"]) <= {"better", "worse", "higher", "lower", NO_DIFFERENCE, TOO_FEW_USERS}
    assert set(pd.read_csv(tmp_path / "split.csv")["seed"]) == {0, 1, 2}
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
