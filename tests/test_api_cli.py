"""Reproduce and export from the CLI: ``--config`` reruns a saved comparison to byte-identical result files,
``--mlflow`` logs it to a real local MLflow store (and so does the Runs page's button), and top-k lists are
written as Parquet that reads back as one table."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from recaug import load_run
from recaug.__main__ import main
from recaug.api import Comparison
from recaug.data.builtin import load_ml100k
from recaug.experiment.config import ExperimentConfig
from recaug.reporting.top_k import TOP_K_COLUMNS, top_k_path, write_top_k

REPO = Path(__file__).resolve().parents[1]
IDENTICAL = ("results.csv", "significance.csv", "augmented.csv", "split.csv")  # cost.csv holds wall-clock seconds
RUN_FLAGS = ["--augment", "random", "--models", "pop,itemknn", "--seeds", "0", "--quiet", "--no-llm-estimate"]


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One real comparison on a file of ML-100k's first 150 users, saved in a run store and logged to MLflow."""
    root = tmp_path_factory.mktemp("cli")
    interactions, _ = load_ml100k()
    users = interactions["user_id"].drop_duplicates().iloc[:150]
    data = root / "ratings.csv"
    interactions[interactions["user_id"].isin(users)].to_csv(data, index=False)
    paths = {"data": data, "out": root / "out", "runs": root / "runs", "mlflow": root / "mlflow" / "mlflow.db"}
    where = ["--data", str(data), "--out", str(paths["out"]), "--runs-dir", str(paths["runs"])]
    mlflow = ["--mlflow", f"sqlite:///{paths['mlflow']}", "--mlflow-experiment", "cli-test"]
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        code = main(["compare", *where, *RUN_FLAGS, "--rating-threshold", "3", "--top-k-out", "5", *mlflow])
    assert code == 0
    paths["stdout"] = root / "stdout.txt"
    paths["stdout"].write_text(printed.getvalue())
    (paths["run"],) = [p for p in paths["runs"].iterdir() if not p.name.startswith(".")]
    return paths


def _same_files(a: Path, b: Path) -> None:
    for name in IDENTICAL:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    top_k = sorted(p.relative_to(a) for p in (a / "top_k").rglob("*.parquet"))
    assert top_k and top_k == sorted(p.relative_to(b) for p in (b / "top_k").rglob("*.parquet"))
    for path in top_k:
        assert (a / path).read_bytes() == (b / path).read_bytes(), path


def test_config_json_reruns_to_byte_identical_results(first: dict[str, Path], tmp_path: Path) -> None:
    record = json.loads((first["out"] / "config.json").read_text())
    assert record["load"]["data"] == str(first["data"]) and record["load"]["rating_threshold"] == 3
    again = tmp_path / "again"
    code = main(["compare", "--config", str(first["out"] / "config.json"), "--out", str(again), "--no-save", "--quiet"])
    assert code == 0
    _same_files(first["out"], again)
    assert json.loads((again / "config.json").read_text())["data_fingerprint"] == record["data_fingerprint"]


def test_a_saved_runs_config_reruns_from_the_run_store(first: dict[str, Path], tmp_path: Path) -> None:
    """A run-store config.json records no file: the data comes back from the store by its fingerprint."""
    again = tmp_path / "again"
    args = ["compare", "--config", str(first["run"] / "config.json"), "--runs-dir", str(first["runs"])]
    assert main([*args, "--out", str(again), "--no-save", "--quiet"]) == 0
    _same_files(first["out"], again)


def test_a_moved_data_file_is_found_with_data_and_checked(
    first: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    record = json.loads((first["out"] / "config.json").read_text())
    record["load"]["data"] = str(tmp_path / "gone.csv")
    config.write_text(json.dumps(record))
    empty_store = ["--runs-dir", str(tmp_path / "empty"), "--no-save", "--quiet"]
    assert main(["compare", "--config", str(config), "--out", str(tmp_path / "a"), *empty_store]) == 2
    assert "pass the original data file with --data" in capsys.readouterr().err
    moved = str(shutil.copy(first["data"], tmp_path / "moved.csv"))
    assert main(["compare", "--config", str(config), "--data", moved, "--out", str(tmp_path / "b"), *empty_store]) == 0
    _same_files(first["out"], tmp_path / "b")
    other = tmp_path / "other.csv"
    pd.read_csv(first["data"]).iloc[:-50].to_csv(other, index=False)  # different data: refused, not rerun
    assert main(["compare", "--config", str(config), "--data", str(other), "--out", str(tmp_path / "c")]) == 2
    assert "has fingerprint" in capsys.readouterr().err


def test_config_refuses_flags_that_change_the_experiment(
    first: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(first["out"] / "config.json")
    assert main(["compare", "--config", config, "--seeds", "0,1", "--budget", "5", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--budget, --seeds would change it" in err and "edit the config file" in err
    assert main(["compare", "--config", str(tmp_path / "nope.json"), "--out", str(tmp_path)]) == 2
    assert "cannot read nope.json" in capsys.readouterr().err


def test_the_cli_logged_the_comparison_to_mlflow(first: dict[str, Path]) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{first['mlflow']}")
    experiment = client.get_experiment_by_name("cli-test")
    (run,) = client.search_runs([experiment.experiment_id])
    results = pd.read_csv(first["out"] / "results.csv")
    mean = results.query("slice == 'all' and metric == 'ndcg' and k == 10 and model == 'itemknn'")
    expected = mean.groupby("variant")["value"].mean()
    assert run.data.metrics["ndcg_at_10/itemknn/baseline"] == pytest.approx(expected["baseline"])
    assert run.data.metrics["ndcg_at_10/itemknn/random"] == pytest.approx(expected["random"])
    assert run.data.metrics["delta/ndcg_at_10/itemknn/random"] == pytest.approx(
        expected["random"] - expected["baseline"]
    )
    assert run.data.params["seeds"] == "[0]" and run.data.params["models"] == '["pop", "itemknn"]'
    assert run.data.tags["verdict/ndcg_at_10/itemknn/random"].startswith("no verdict")
    assert run.data.tags["recaug.run_id"] == first["run"].name == run.info.run_name
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.json", "results.csv", "significance.csv", "cost.csv", "fidelity.csv", "report.html"} <= artifacts
    assert str(first["mlflow"].parent / "mlartifacts") in run.info.artifact_uri


def test_the_runs_page_button_logs_a_saved_run(
    first: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient
    from streamlit.testing.v1 import AppTest

    uri = f"sqlite:///{tmp_path / 'page.db'}"
    monkeypatch.setenv("RECAUG_NO_WARMUP", "1")
    monkeypatch.setenv("RECAUG_RUNS_DIR", str(first["runs"]))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(REPO)
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
    app.switch_page("pages/6_Runs.py").run()
    assert app.text_input(key="runs_mlflow_uri").value == uri
    app.button(key="runs_mlflow_log").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert "Logged as MLflow run" in app.success[0].value
    experiment = MlflowClient(tracking_uri=uri).get_experiment_by_name("recaug")
    (run,) = MlflowClient(tracking_uri=uri).search_runs([experiment.experiment_id])
    assert run.info.run_name == first["run"].name and "ndcg_at_10/pop/baseline" in run.data.metrics


def test_a_refusing_store_is_one_clear_error(first: dict[str, Path], tmp_path: Path) -> None:
    from recaug.core.errors import RecaugInputError
    from recaug.reporting.mlflow_export import log_saved_run
    from recaug.reporting.runs import load_run

    run = load_run(first["run"].name, first["runs"])
    with pytest.raises(RecaugInputError, match="MLflow refused the comparison"):
        log_saved_run(run, tracking_uri=f"file://{tmp_path / 'mlruns'}")  # MLflow 3 refuses plain file stores


def test_top_k_out_writes_every_models_lists_per_arm_and_seed(first: dict[str, Path]) -> None:
    table = pd.read_parquet(first["out"] / "top_k")
    arms = {(m, str(v), int(s)) for m, v, s in table[["model", "variant", "seed"]].itertuples(index=False)}
    assert arms == {(m, v, 0) for m in ("pop", "itemknn") for v in ("baseline", "random")}
    per_user = table.groupby(["model", "variant", "user_id"], observed=True)["rank"]
    assert (per_user.max() <= 5).all() and (per_user.min() == 1).all()
    split = pd.read_csv(first["out"] / "split.csv", dtype={"user_id": str, "item_id": str})
    train = split[split["part"] == "train"].set_index(["user_id", "item_id"]).index
    listed = table.set_index(["user_id", "item_id"]).index.map(lambda pair: tuple(map(str, pair)))
    assert not listed.isin(train).any(), "a top-k list never recommends a training item"
    test_users = set(split.loc[split["part"] == "test", "user_id"])
    assert set(table["user_id"].astype(str)) <= test_users


def test_the_wrote_line_names_the_top_k_folder_once_with_its_file_count(first: dict[str, Path]) -> None:
    (wrote,) = [line for line in first["stdout"].read_text().splitlines() if line.startswith("wrote ")]
    assert "top_k/ (4 files)" in wrote and "part-0.parquet" not in wrote  # 2 models x 2 arms x 1 seed
    assert "results.csv" in wrote and "report.html" in wrote


def test_runs_alone_lists_the_saved_runs(
    first: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("RECAUG_RUNS_DIR", str(first["runs"]))
    assert main(["runs"]) == 0
    assert first["run"].name in capsys.readouterr().out


def test_a_comparisons_repr_is_one_informative_line(first: dict[str, Path]) -> None:
    shown = repr(load_run(first["out"]))
    assert len(shown.splitlines()) == 1 and len(shown) < 400, shown
    assert "protocol='random-811', seeds=[0], models=['pop', 'itemknn'], arms=['random'], verdicts={" in shown
    assert shown.startswith(f"Comparison(data='{first['data']}'") and f"path='{first['out']}'" in shown
    empty = Comparison(config=ExperimentConfig(seeds=[0, 1, 2]), results=pd.DataFrame(), significance=None)
    assert repr(empty).endswith("seeds=[0, 1, 2], models=['pop', 'itemknn', 'bpr'], arms=['similarity'], verdicts={})")
    assert "<b>recaug comparison</b>" in empty._repr_html_()


def test_an_items_file_matching_nothing_is_a_warning_line(
    first: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    items = tmp_path / "items.csv"
    items.write_text("item_id,title\n" + "".join(f"X{n},Product {n}\n" for n in range(20)))
    where = ["--data", str(first["data"]), "--items", str(items), "--out", str(tmp_path / "out"), "--no-save"]
    assert main(["compare", *where, *RUN_FLAGS]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "none of its 20 item ids" in line]
    assert warnings and warnings[0].startswith("warning: items.csv: none of its 20 item ids")


def test_top_k_lists_are_parquet_per_model_arm_and_seed(tmp_path: Path) -> None:
    def lists(offset: float) -> pd.DataFrame:
        return pd.DataFrame(
            {"user_id": ["u1", "u1", "u2", "u2"], "rank": [1, 2, 1, 2], "item_id": ["a", "b", "c", "a"]}
            | {"score": [0.9 + offset, 0.5, 0.8, 0.1]}
        )

    top_k = {
        ("bpr", "A/A control", 1): lists(0.0),
        ("bpr", "similarity@10%", 0): lists(0.01),
        ("pop", "baseline", 0): lists(0.02),
    }
    written = write_top_k(top_k, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == sorted(top_k_path(*key) for key in top_k)
    assert top_k_path("bpr", "A/A control", 1) == "top_k/model=bpr/variant=A%2FA%20control/seed=1/part-0.parquet"
    table = pd.read_parquet(tmp_path / "top_k")
    assert set(table["variant"].astype(str)) == {"A/A control", "similarity@10%", "baseline"}
    one = table[(table["variant"] == "similarity@10%") & (table["seed"] == 0)][TOP_K_COLUMNS].reset_index(drop=True)
    pd.testing.assert_frame_equal(one, lists(0.01), check_dtype=False)
    again = write_top_k(dict(reversed(list(top_k.items()))), tmp_path / "again")
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in again]


def test_a_listing_piped_into_head_ends_quietly() -> None:
    """`recaug augmenters --params | head -1`: the closed pipe is not an error worth a traceback."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write, as when head has had its line: deterministic
    try:
        done = subprocess.run(
            [sys.executable, "-m", "recaug", "augmenters", "--params"],
            cwd=REPO,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
