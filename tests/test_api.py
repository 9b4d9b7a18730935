"""The notebook API: ``recaug.compare`` runs the real pipeline on real data and returns tidy tables and figures;
``recaug.load_run`` brings a saved comparison back as the same kind of object."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

import recaug
from recaug.data.builtin import load_ml100k
from recaug.experiment import ExperimentConfig, run_experiment
from tests.fresh_python import fresh_python

REPO = Path(__file__).resolve().parents[1]
SETTINGS = {"protocol": "random-811", "budget": 200, "target": "all", "aa_control": True}


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first 200 users of ML-100k, with ML-100k's own column names, as a notebook user would have them."""
    interactions, items = load_ml100k()
    users = interactions["user_id"].drop_duplicates().iloc[:200]
    rows = interactions[interactions["user_id"].isin(users)].rename(columns={"user_id": "userId", "item_id": "movieId"})
    return rows.reset_index(drop=True), items


@pytest.fixture(scope="module")
def comparison(
    frames: tuple[pd.DataFrame, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> recaug.Comparison:
    rows, items = frames
    return recaug.compare(
        rows,
        augment=["random"],
        models=["pop", "itemknn"],
        seeds=3,
        items=items,
        name="ml-100k first 200 users",
        save=True,
        runs_dir=tmp_path_factory.mktemp("runs"),
        **SETTINGS,
    )


def test_compare_returns_the_pipelines_numbers_as_tidy_tables(comparison: recaug.Comparison) -> None:
    results = comparison.results
    assert list(results.columns[:7]) == ["model", "variant", "seed", "slice", "metric", "k", "value"]
    assert set(results["variant"]) == {"baseline", "random", "A/A control"} and set(results["seed"]) == {0, 1, 2}
    # the same experiment through run_experiment directly gives the same numbers
    assert comparison.dataset is not None
    config = ExperimentConfig(
        data=comparison.dataset.name, augmenters=["random"], models=["pop", "itemknn"], seeds=[0, 1, 2], **SETTINGS
    )
    direct = run_experiment(comparison.dataset, config).results
    pd.testing.assert_frame_equal(results, direct)
    ndcg = results[(results["metric"] == "ndcg") & (results["k"] == 10) & (results["slice"] == "all")]
    assert ndcg["value"].between(0.02, 0.6).all()  # 200 users of ML-100k: pop ~0.1, itemknn ~0.2


def test_verdicts_cost_and_figures(comparison: recaug.Comparison) -> None:
    verdicts = comparison.verdicts
    assert set(zip(verdicts["metric"], verdicts["k"], strict=True)) == {("ndcg", 10), ("recall", 20)}
    assert set(verdicts["variant"]) == {"random", "A/A control"} and set(verdicts["model"]) == {"pop", "itemknn"}
    assert (verdicts["ci_low"] <= verdicts["delta"]).all() and (verdicts["delta"] <= verdicts["ci_high"]).all()
    assert verdicts["verdict"].notna().all()
    # every number with its protocol, its seeds and its users (200 users of ML-100k, about 190 with test items)
    assert set(verdicts["protocol"]) == {"random-811"} and set(verdicts["n_seeds"]) == {3}
    assert verdicts["n_users"].between(150, 200).all()
    cost = comparison.cost
    assert cost is not None and "random" in set(cost["variant"])
    figures = comparison.figures()
    assert set(figures) == {"ndcg@10", "recall@20"}
    assert all(isinstance(f, go.Figure) and len(f.data) > 0 for f in figures.values())
    from recaug.evaluate.significance import verdict_summary

    summary = comparison.summary()
    assert summary == verdict_summary(comparison.significance, protocol="random-811") and "3 seeds" in summary
    assert "random-811 split" in summary
    assert "<table" in comparison._repr_html_() and "A/A control" in comparison._repr_html_()
    assert comparison.before_after()["delta"].notna().any()
    assert "<html" in comparison.report_html().lower()


def test_write_gives_the_files_the_cli_writes(comparison: recaug.Comparison, tmp_path: Path) -> None:
    written = {p.name for p in comparison.write(tmp_path)}
    assert {"results.csv", "significance.csv", "cost.csv", "config.json", "fidelity.csv", "report.html"} <= written
    saved = pd.read_csv(tmp_path / "results.csv")
    assert saved["value"].to_numpy() == pytest.approx(comparison.results["value"].to_numpy())
    assert recaug.load_run(tmp_path).verdicts["verdict"].tolist() == comparison.verdicts["verdict"].tolist()


def test_load_run_by_id_and_by_folder_gives_the_saved_tables(comparison: recaug.Comparison) -> None:
    assert comparison.run_id is not None and comparison.path is not None
    by_id = recaug.load_run(comparison.run_id[:15], runs_dir=comparison.path.parent)
    by_folder = recaug.load_run(comparison.path)
    for loaded in (by_id, by_folder):
        assert loaded.run_id == comparison.run_id and loaded.config.seeds == [0, 1, 2]
        pd.testing.assert_frame_equal(
            loaded.results[["model", "variant", "seed", "metric", "k"]],
            comparison.results[["model", "variant", "seed", "metric", "k"]],
        )
        assert loaded.results["value"].to_numpy() == pytest.approx(comparison.results["value"].to_numpy())
        columns = ["model", "variant", "metric", "k", "verdict"]
        assert loaded.verdicts[columns].astype(str).equals(comparison.verdicts[columns].astype(str))
    with pytest.raises(recaug.RecaugInputError, match="no run"):
        recaug.load_run("19990101", runs_dir=comparison.path.parent)


def test_bad_arguments_get_one_clear_error(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    with pytest.raises(recaug.RecaugInputError, match=r"unknown setting.*budgett") as caught:
        recaug.compare(frames[0], budgett=5)
    assert "budget" in str(caught.value).split("use:")[1]
    with pytest.raises(recaug.RecaugInputError, match="lists of names"):
        recaug.compare(frames[0], augment="random")
    with pytest.raises(recaug.RecaugInputError, match="executor"):
        recaug.compare(frames[0], executor="spark")
    with pytest.raises(recaug.RecaugInputError, match="DataFrame or a Dataset"):
        recaug.compare(42)  # type: ignore[arg-type]


def test_import_recaug_stays_cheap_and_exports_the_api_lazily() -> None:
    code = (
        "import sys, recaug; before = 'recaug.api' in sys.modules or 'pandas' in sys.modules; "
        "from recaug import compare, load_run, Comparison; "
        "print(before, compare.__module__, 'compare' in dir(recaug), recaug.__all__)"
    )
    stdout = fresh_python(code, REPO, REPO)
    assert stdout.split()[:3] == ["False", "recaug.api", "True"]
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        recaug.nothing  # noqa: B018
