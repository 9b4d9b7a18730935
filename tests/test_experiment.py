"""The pipeline: leakage-safe by construction, reproducible, same tables from the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from recaug.augment.base import Augmenter
from recaug.data.dataset import Dataset, TrainingData
from recaug.data.splits import make_split
from recaug.evaluate.significance import AA_CONTROL
from recaug.experiment import BASELINE, RESULT_COLUMNS, ExperimentConfig, compare_table, run_experiment

FAST_MODELS = {"bpr": {"max_epochs": 6, "eval_every": 2}}
REPO = Path(__file__).resolve().parents[1]


def test_augmenters_see_only_the_training_split(ml100k: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[TrainingData] = []
    original = Augmenter.fit

    def spy(self: Augmenter, train: TrainingData, **kwargs: object) -> Augmenter:
        seen.append(train)
        return original(self, train, **kwargs)

    monkeypatch.setattr(Augmenter, "fit", spy)
    config = ExperimentConfig(augmenters=["random", "similarity"], models=["pop"], seeds=[0])
    result = run_experiment(ml100k, config)
    split = make_split(ml100k.interactions, "random-811", 0)
    held_out = set(
        zip(
            pd.concat([split.valid, split.test])["user_id"],
            pd.concat([split.valid, split.test])["item_id"],
            strict=True,
        )
    )
    assert len(seen) == 2
    for train in seen:
        pairs = set(zip(train.interactions["user_id"], train.interactions["item_id"], strict=True))
        assert pairs == set(zip(split.train["user_id"], split.train["item_id"], strict=True))
        assert not pairs & held_out
        assert train.matrix.sum() == len(split.train)
    # Synthetic rows may guess a held-out pair, but they never enter validation or test.
    split_table = result.split
    assert set(split_table["part"]) == {"train", "valid", "test"}
    assert len(split_table) == len(ml100k.interactions)


def test_same_seed_gives_identical_results(ml100k: Dataset) -> None:
    config = ExperimentConfig(augmenters=["random"], models=["itemknn", "bpr"], model_params=FAST_MODELS, seeds=[1])
    first = run_experiment(ml100k, config)
    second = run_experiment(ml100k, config)
    pd.testing.assert_frame_equal(first.results, second.results)
    pd.testing.assert_frame_equal(first.synthetic, second.synthetic)
    assert set(first.results["variant"]) == {BASELINE, "random"}  # the A/A control is opt-in
    expected = ["model", "variant", "seed", "slice", "metric", "k", "value", "n_users"]
    assert list(first.results.columns) == RESULT_COLUMNS == expected
    table = compare_table(first.results)
    assert table["delta"].notna().all()
    assert (table["baseline"] > 0).all()


def test_baseline_does_not_depend_on_the_augmenter(ml100k: Dataset) -> None:
    base = {"models": ["itemknn"], "seeds": [0]}
    a = run_experiment(ml100k, ExperimentConfig(augmenters=["random"], **base)).results
    b = run_experiment(ml100k, ExperimentConfig(augmenters=["similarity"], **base)).results

    def baseline(frame: pd.DataFrame) -> pd.DataFrame:
        # touched:<augmenter> / untouched:<augmenter> slice the baseline by each augmenter's users, by design.
        own = (frame["variant"] == BASELINE) & ~frame["slice"].str.contains("touched:")
        return frame[own].reset_index(drop=True)

    pd.testing.assert_frame_equal(baseline(a), baseline(b))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recaug", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "PYTHONPATH": str(REPO)},
    )


def test_cli_compare_writes_the_documented_tables(tmp_path: Path) -> None:
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    args = [
        "compare",
        "--data",
        "ml-100k",
        "--augment",
        "similarity,random",
        "--models",
        "pop,itemknn",
        "--seeds",
        "0",
        "--aa-control",  # opt-in: results.csv documents its variant too
        "--quiet",
    ]
    for out in (out_a, out_b):
        done = _cli(*args, "--out", str(out))
        assert done.returncode == 0, done.stderr
    results = pd.read_csv(out_a / "results.csv")
    assert list(results.columns[:7]) == ["model", "variant", "seed", "slice", "metric", "k", "value"]
    assert set(results["variant"]) == {"baseline", AA_CONTROL, "similarity", "random"}
    augmented = pd.read_csv(out_a / "augmented.csv")
    assert {"user_id", "item_id", "origin", "confidence"} <= set(augmented.columns)
    assert set(augmented["origin"]) == {"similarity", "random"}
    split = pd.read_csv(out_a / "split.csv")
    assert set(split["part"]) == {"train", "valid", "test"}
    config = json.loads((out_a / "config.json").read_text())
    assert config["augmenters"] == ["similarity", "random"] and config["data_fingerprint"]
    for name in ("results.csv", "augmented.csv", "split.csv"):
        assert (out_a / name).read_bytes() == (out_b / name).read_bytes(), name


def test_cli_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("visitor,thing\n1,2\n")
    done = _cli("compare", "--data", str(bad), "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 2
    assert "bad.csv" in done.stderr and "no user_id column" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_lists_augmenters() -> None:
    done = _cli("augmenters")
    assert done.returncode == 0
    assert "random" in done.stdout and "similarity" in done.stdout


def test_cli_passes_method_parameters_and_the_per_user_cap(tmp_path: Path) -> None:
    common = ["compare", "--augment", "popularity", "--models", "pop", "--seeds", "0", "--no-save", "--quiet"]
    caps = ["--max-per-user", "2", "--max-per-item", "40"]
    done = _cli(*common, *caps, "--param", "popularity.alpha=0.5", "--out", str(tmp_path / "a"))
    assert done.returncode == 0, done.stderr
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["augmenter_params"] == {"popularity": {"max_per_user": 2, "max_per_item": 40, "alpha": 0.5}}
    augmented = pd.read_csv(tmp_path / "a" / "augmented.csv")
    assert len(augmented) and augmented.groupby("user_id").size().max() == 2
    assert augmented.groupby("item_id").size().max() <= 40
    bad = _cli(*common, "--param", "popularity.alpha=lots", "--out", str(tmp_path / "b"))
    assert bad.returncode == 2 and "popularity.alpha must be a number" in bad.stderr
    assert "Traceback" not in bad.stderr
    listed = _cli("augmenters", "--params")
    assert listed.returncode == 0 and "cfgan.epochs=60  [int]" in listed.stdout
    assert "ensemble.mode=vote  [choice] (one of union, vote, weighted, stacking)" in listed.stdout


def test_cli_budget_sweep_compares_each_budget_against_one_baseline(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["compare", "--augment", "random", "--budgets", "1%,500", "--models", "pop", "--seeds", "0", "--no-save"]
    done = _cli(*args, "--quiet", "--out", str(out))
    assert done.returncode == 0, done.stderr
    results = pd.read_csv(out / "results.csv")
    assert set(results["variant"]) == {"baseline", "random@1%", "random@500"}
    synthetic = pd.read_csv(out / "augmented.csv")
    sizes = synthetic.groupby("origin").size()
    assert sizes["random@500"] == 500 and sizes["random@1%"] == round(0.01 * 80_808)  # seed 0's training split
    assert list(pd.read_csv(out / "cost.csv")["variant"]) == ["baseline", "random@1%", "random@500"]
    assert "by augmentation budget" in (out / "report.html").read_text()


def test_a_model_that_cannot_fit_the_data_is_refused_before_augmenting(
    planted: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recaug.experiment.run as experiment
    from recaug.core.errors import RecaugInputError

    def no_augmenting(*args: object, **kwargs: object) -> None:
        raise AssertionError("an augmenter ran before the size check")

    monkeypatch.setattr(experiment, "create_augmenter", no_augmenting)
    config = ExperimentConfig(
        augmenters=["cfgan"], models=["pop", "ease"], model_params={"ease": {"max_items": 10}}, seeds=[0, 1, 2]
    )
    with pytest.raises(RecaugInputError, match="EASE needs dense"):
        run_experiment(planted, config)
