"""Significance on constructed cases with known answers, its calibration, and the table an experiment writes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from recaug.data.dataset import Dataset
from recaug.evaluate.design import Question
from recaug.evaluate.significance import (
    AA_CONTROL,
    EXPLORATORY,
    NO_CHANGE,
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
    """Per seed: baseline value b_s, variant value b_s + shift + jitter * N(0, 1); ndcg@10 (a primary row of the
    default question) and coverage@10 (exploratory)."""
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
    assert np.isnan(ndcg["p_ttest"]) and np.isnan(ndcg["p_wilcoxon"])  # no spread: not a test
    assert ndcg["n_seeds"] == 3 and ndcg["n_users"] == 200
    assert table["verdict"].tolist() == [NO_CHANGE, NO_CHANGE]
    assert table["primary"].tolist() == [True, False]


def test_a_clear_shift_is_detected_with_a_seed_level_interval() -> None:
    table = significance_table(constructed(0.05, list(range(6)), jitter=0.002))
    ndcg = row(table)
    assert ndcg["delta"] == pytest.approx(0.05, abs=0.003)
    # 95% t-interval over 6 seeds: half-width ~ t(5) * 0.002 / sqrt(6), a few thousandths.
    assert 0.044 < ndcg["ci_low"] < ndcg["delta"] < ndcg["ci_high"] < 0.056
    assert ndcg["p_ttest"] < 1e-4 and ndcg["q_ttest"] < 1e-4
    assert ndcg["p_wilcoxon"] == pytest.approx(2 / 2**6)  # exact two-sided minimum for 6 positive deltas
    assert ndcg["verdict"] == "better"
    assert row(table, "coverage")["verdict"] == EXPLORATORY  # the same change, not pre-declared: never a verdict
    assert row(table, "coverage")["ci_low"] > 0 and np.isnan(row(table, "coverage")["q_ttest"])
    worse = significance_table(constructed(-0.05, list(range(6)), jitter=0.002))
    assert row(worse)["ci_high"] < 0 and row(worse)["verdict"] == "worse"


def test_signed_rank_p_is_scipys_exact_test_and_fast_on_tied_rows() -> None:
    """Tied and zero deltas (deterministic models tie often) sent scipy down a per-pattern Python permutation test:
    ~40 CPU-s for one 10-seed table. The vectorised enumeration gives scipy's p-values at a fraction of that."""
    import time
    import warnings

    from scipy import stats

    from recaug.evaluate.signed_rank import signed_rank_p

    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 5, 8, 10):
        untied = rng.normal(size=(12, n))
        tied = np.round(rng.normal(size=(12, n)) * 2) / 2 + 0.25  # halves: ties, never zero
        for deltas in (untied, tied):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = [stats.wilcoxon(d).pvalue for d in deltas]
            np.testing.assert_allclose(signed_rank_p(deltas), expected, rtol=1e-12)
    many = np.round(rng.normal(size=(2000, 10)) * 3) / 3 + 1 / 6  # 2,000 tied rows at 10 seeds
    start = time.process_time()
    p = signed_rank_p(many)
    assert time.process_time() - start < 5.0  # scipy's permutation path: minutes
    assert ((p > 0) & (p <= 1)).all() and p.min() == pytest.approx(2 / 2**10)


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
    results["metric"] = results["metric"].replace({"coverage": "avg_pop"})
    table = significance_from_results(results, question=Question(primary=(("avg_pop", 10),)))
    assert row(table, "avg_pop")["verdict"] == "higher"


def test_seed_tests_edge_cases() -> None:
    p_t, p_w = seed_tests(np.array([[0.1, 0.1, 0.1], [0.0, 0.0, 0.0], [0.1, np.nan, np.nan], [0.1, 0.2, np.nan]]))
    assert np.isnan(p_t[0]) and np.isnan(p_w[0])  # the same delta every seed: no spread, so no test (not p = 0)
    assert np.isnan(p_t[1]) and np.isnan(p_w[1])
    assert np.isnan(p_t[2]) and np.isnan(p_w[2])
    assert 0 < p_t[3] < 1 and p_w[3] == pytest.approx(0.5)


TARGETED = Question(target_slices=(("aug", ("activity-q1",)),))  # primary: 2 metrics x (all, activity-q1)
PRIMARY_CELLS = [("all", "ndcg", 10), ("all", "recall", 20), ("activity-q1", "ndcg", 10), ("activity-q1", "recall", 20)]


def family_results(shifts: dict[str, float], n_seeds: int, rng: np.random.Generator, noise: float = 0.006):
    """Results with one primary family (4 rows) per model: model -> the shift planted on every primary row."""
    rows = []
    for model, shift in shifts.items():
        for seed in range(n_seeds):
            for slice_name, metric, k in PRIMARY_CELLS:
                base = float(rng.random())
                for name, value in (("baseline", base), ("aug", base + shift + noise * float(rng.normal()))):
                    rows.append(dict(model=model, variant=name, seed=seed, slice=slice_name, metric=metric, k=k,
                                     value=value, n_users=500))  # fmt: skip
    return pd.DataFrame(rows)


def test_every_row_bh_selects_has_an_interval_that_excludes_zero() -> None:
    """BH picks within each (model, arm) family; each picked row's own 95% interval excludes 0."""
    shifts = {f"m{i}": (0.03, 0.012, 0.0)[i % 3] for i in range(30)}  # clear, borderline, none
    table = significance_from_results(family_results(shifts, 4, np.random.default_rng(7)), question=TARGETED)
    assert table["primary"].all() and len(table) == 30 * 4
    excludes_zero = (table["ci_low"] > 0) | (table["ci_high"] < 0)
    selected = table["q_ttest"] <= 0.05
    assert 0 < selected.sum() < len(table)
    assert excludes_zero[selected].all()
    assert (excludes_zero & ~selected).any()  # borderline rows: the interval excludes 0, the family's BH does not
    expected = np.where(table["delta"] > 0, "better", "worse")
    assert (table.loc[selected, "verdict"] == expected[selected]).all()
    clear = table["model"].map(shifts).eq(0.03)
    assert (table.loc[clear, "verdict"] == "better").all()  # every clear shift is found
    assert (table.loc[~selected, "verdict"] == NO_DIFFERENCE).all()


def test_null_families_give_false_verdicts_in_at_most_5_percent_of_rows() -> None:
    """Monte Carlo: 1,200 families x 4 primary rows of pure seed noise (3 seeds) -> false verdicts <= 5%."""
    deltas = np.random.default_rng(0).normal(scale=0.01, size=(1200 * 4, 3))
    table = pd.DataFrame(
        {
            "model": np.repeat([f"m{i}" for i in range(1200)], 4),
            "variant": "aug",
            "slice": "all",
            "metric": "ndcg",
            "k": np.tile(np.arange(4), 1200),
            "delta": deltas.mean(axis=1),
            "se": deltas.std(axis=1, ddof=1) / np.sqrt(3),
            "p_ttest": seed_tests(deltas)[0],
            "n_seeds": 3,
            "n_users": 500,
            "primary": True,
        }
    )
    verdicts = with_verdicts(table)["verdict"]
    assert verdicts.isin(["better", "worse", NO_DIFFERENCE]).all()
    assert 0 < verdicts.isin(["better", "worse"]).mean() <= 0.05


def test_a_primary_verdict_does_not_change_when_models_arms_or_metrics_are_added() -> None:
    rng = np.random.default_rng(3)
    core = family_results({"bpr": 0.008}, 4, rng)
    alone = significance_from_results(core, question=TARGETED)
    extra_model = family_results({"itemknn": 0.0, "pop": -0.02}, 4, rng)
    extra_arm = core[core["variant"] == "aug"].assign(variant="other", value=lambda f: f["value"] + 0.001)
    extra_metric = core.assign(metric="precision")
    extra_slice = core.assign(slice="activity-q4")
    bigger = pd.concat([core, extra_model, extra_arm, extra_metric, extra_slice], ignore_index=True)
    crowded = significance_from_results(bigger, question=TARGETED)
    keys = ["model", "variant", "slice", "metric", "k"]
    picked = crowded[crowded["primary"]].merge(alone[keys], on=keys)
    assert len(picked) == 4
    pd.testing.assert_frame_equal(
        alone.set_index(keys)[["q_ttest", "verdict"]].sort_index(),
        picked.set_index(keys)[["q_ttest", "verdict"]].sort_index(),
    )
    assert alone["verdict"].isin(["better"]).any()  # something to keep: the test can fail
    assert crowded.loc[~crowded["primary"] & crowded["variant"].eq("aug"), "verdict"].eq(EXPLORATORY).all()


def test_a_raw_significant_row_is_corrected_within_its_family_only() -> None:
    """p = 0.03 alone is 'better'; 20 exploratory rows beside it change nothing; 3 null primary rows do."""
    base = dict(model="m", variant="aug", slice="all", delta=0.01, se=0.002, n_seeds=3, n_users=500)
    alone = with_verdicts(pd.DataFrame([{**base, "metric": "ndcg", "k": 10, "p_ttest": 0.03, "primary": True}]))
    assert alone["verdict"].iloc[0] == "better"
    many = pd.DataFrame(
        [{**base, "metric": "ndcg", "k": 10, "p_ttest": 0.03, "primary": True}]
        + [{**base, "metric": "hit", "k": k, "p_ttest": 0.6, "primary": False} for k in range(20)]
    )
    assert with_verdicts(many)["verdict"].iloc[0] == "better"
    family = pd.DataFrame(
        [{**base, "metric": "ndcg", "k": k, "p_ttest": 0.03 if k == 0 else 0.6, "primary": True} for k in range(4)]
    )
    assert with_verdicts(family)["verdict"].iloc[0] == NO_DIFFERENCE


def test_aa_control_is_its_own_family_and_noise_floor_is_each_rows_own_seed_noise() -> None:
    noisy = constructed(0.0, list(range(5)), jitter=0.01, variant=AA_CONTROL).results
    real = constructed(0.05, list(range(5)), jitter=0.001).results
    results = pd.concat([noisy, real[real["variant"] != "baseline"]], ignore_index=True)
    table = significance_from_results(results)
    aug, control = row(table[table["variant"] == "aug"]), row(table[table["variant"] == AA_CONTROL])
    assert control["verdict"] == NO_DIFFERENCE and control["primary"]
    # Each row's noise floor is its own per-seed SD: the arm shares the baseline's model seed, the control does not.
    assert 0.0002 < aug["noise_floor"] < 0.002 and 0.004 < control["noise_floor"] < 0.02
    assert aug["noise_floor"] == pytest.approx(aug["se"] * np.sqrt(5))
    assert aug["verdict"] == "better"
    sentence = verdict_sentence(aug)
    assert "seeds" in sentence and "200 users" in sentence and "(primary)" in sentence


def test_the_aa_control_is_opt_in() -> None:
    """Its fits are a third of the default run and buy more power spent as seeds (docs/notes/issue-17-verdicts.md):
    off in the config and the CLI, on with --aa-control (--no-aa-control still parses, for old commands)."""
    from recaug.__main__ import build_parser

    def parsed(*flags: str) -> bool:
        return bool(build_parser().parse_args(["compare", "--out", "x", *flags]).aa_control)

    assert ExperimentConfig().aa_control is False
    assert (parsed(), parsed("--aa-control"), parsed("--no-aa-control")) == (False, True, False)


def test_experiment_writes_significance_protocol_and_every_seeds_split(planted: Dataset, tmp_path: Path) -> None:
    from recaug.analysis.fidelity import result_split

    config = ExperimentConfig(
        protocol="cold-users",
        protocol_params={"n": 2},
        augmenters=["random"],
        models=["pop", "ease"],
        seeds=[0, 1, 2],
        budget=40,
        aa_control=True,  # this test checks the A/A control's rows too
    )
    result = run_experiment(planted, config)
    table = significance_table(result)
    assert set(table["variant"]) == {"random", AA_CONTROL} and set(table["model"]) == {"pop", "ease"}
    assert {"all", "cold-users", "warm-users", "touched:random", "untouched:random"} <= set(table["slice"])
    everyone = table[(table["slice"] == "all") & (table["metric"] == "ndcg")]
    assert everyone["ci_low"].notna().all() and (everyone["n_users"] == 60).all() and (everyone["n_seeds"] == 3).all()
    small = table[table["n_users"] < 30]
    assert len(small) and (small["verdict"] == TOO_FEW_USERS).all()
    # pop and EASE are deterministic: the A/A control reproduces the baseline exactly, which is no test at all.
    control = table[table["variant"] == AA_CONTROL]
    assert (control["delta"] == 0).all() and control["p_ttest"].isna().all()
    assert set(control["verdict"]) <= {NO_CHANGE, TOO_FEW_USERS}
    # The primary family: NDCG@10 and Recall@20 on all and on the cold-users slice (the protocol's own).
    primary = table[table["primary"] & (table["variant"] == "random")]
    assert set(zip(primary["slice"], primary["metric"], primary["k"], strict=True)) == {
        (s, m, k) for s in ("all", "activity-q1", "cold-users") for m, k in (("ndcg", 10), ("recall", 20))
    }
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
    assert set(on_disk["verdict"]) <= {"better", "worse", "higher", "lower", NO_DIFFERENCE, TOO_FEW_USERS, NO_CHANGE,
                                       EXPLORATORY}  # fmt: skip
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
