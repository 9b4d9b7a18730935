"""The run store: save, list, reload, compare; and the CLI that reads it and writes report/fidelity."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from recaug.__main__ import main
from recaug.analysis.fidelity import fidelity_for_experiment
from recaug.core.errors import RecaugInputError
from recaug.reporting.runs import (
    LIST_COLUMNS,
    compare_runs,
    delete_run,
    list_runs,
    load_run,
    new_run_id,
    record_comparison,
    runs_dir,
    save_run,
)
from tests.runs_fixtures import significance_for, small_experiment


@pytest.fixture(scope="module")
def experiment():
    return small_experiment()


@pytest.fixture(scope="module")
def fidelity(experiment) -> pd.DataFrame:
    dataset, result = experiment
    return fidelity_for_experiment(dataset, result)


def test_save_and_reload_round_trip(experiment, fidelity: pd.DataFrame, tmp_path: Path) -> None:
    _, result = experiment
    significance = significance_for(result)
    log = pd.DataFrame(
        {
            "augmenter": ["random"] * 2,
            "prompt": ["=cmd|' /C calc'!A0", "fine"],
            "accepted": [True, False],
            "candidate_item_ids": [["1", "2"], ["3"]],
        }
    )
    run = save_run(result, fidelity=fidelity, significance=significance, llm_log=log, label="first", root=tmp_path)
    loaded = load_run(run.run_id, root=tmp_path)
    pd.testing.assert_frame_equal(loaded.results, result.results, check_dtype=False)
    pd.testing.assert_frame_equal(
        loaded.synthetic.reset_index(drop=True), result.synthetic.reset_index(drop=True), check_dtype=False
    )
    pd.testing.assert_frame_equal(loaded.significance, significance, check_dtype=False)
    assert loaded.fidelity[["method", "metric"]].equals(fidelity[["method", "metric"]])
    pd.testing.assert_series_equal(loaded.fidelity["value"], fidelity["value"], check_dtype=False)
    assert loaded.llm_log["prompt"].tolist() == log["prompt"].tolist()  # the store keeps values verbatim
    assert loaded.config == result.config
    assert loaded.fingerprint == result.fingerprint
    meta = json.loads((run.path / "config.json").read_text())
    assert meta["seeds"] == [0, 1] and meta["label"] == "first" and meta["data_fingerprint"] == result.fingerprint
    assert sorted(p.name for p in run.path.iterdir()) == [
        "config.json",
        "fidelity.csv",
        "llm_log.jsonl",
        "manifest.json",
        "results.csv",
        "significance.csv",
        "split.parquet",
        "synthetic.parquet",
    ]


def test_list_newest_first_prefix_lookup_and_delete(experiment, tmp_path: Path) -> None:
    _, result = experiment
    first = save_run(result, root=tmp_path)
    second = save_run(result, root=tmp_path)
    (tmp_path / ".half-written.partial").mkdir()  # an interrupted save is never listed
    runs = list_runs(tmp_path)
    assert list(runs.columns) == LIST_COLUMNS
    assert runs["run_id"].tolist() == sorted([first.run_id, second.run_id], reverse=True)
    assert runs["seeds"].iloc[0] == "0,1" and runs["augmenters"].iloc[0] == "random"
    assert not runs["has_fidelity"].any()
    assert load_run(first.run_id[:-1], root=tmp_path).run_id == first.run_id  # a unique prefix is enough
    with pytest.raises(RecaugInputError, match="no run"):
        load_run("19990101-000000-zzzzzz", root=tmp_path)
    with pytest.raises(RecaugInputError, match="matches 2 runs"):
        load_run("2", root=tmp_path)
    delete_run(first.run_id, root=tmp_path)
    assert list_runs(tmp_path)["run_id"].tolist() == [second.run_id]


def test_run_ids_sort_by_time() -> None:
    ids = [new_run_id({"a": 1}, "f", now=t) for t in (1_700_000_000, 1_700_000_001, 1_800_000_000)]
    assert ids == sorted(ids)
    assert ids[0].startswith("20231114-221320-") and len(ids[0].split("-")[-1]) == 6


def test_runs_dir_argument_beats_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECAUG_RUNS_DIR", str(tmp_path / "from-env"))
    assert runs_dir() == tmp_path / "from-env"
    assert runs_dir(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv("RECAUG_RUNS_DIR")
    monkeypatch.setenv("RECAUG_HOME", str(tmp_path / "home"))
    assert runs_dir() == tmp_path / "home" / "runs"


def test_compare_runs_pairs_rows_and_flags_other_data(experiment, tmp_path: Path) -> None:
    _, result = experiment
    a = save_run(result, root=tmp_path)
    changed = result.results.assign(value=result.results["value"] + 0.25)
    b = save_run(type(result)(**{**result.__dict__, "results": changed}), root=tmp_path)
    table = compare_runs(a.run_id, b.run_id, root=tmp_path)
    assert len(table) == result.results.groupby(["model", "variant", "slice", "metric", "k"]).ngroups
    assert table["delta"].to_numpy() == pytest.approx(0.25)
    assert table.attrs["same_data"] is True
    other = save_run(type(result)(**{**result.__dict__, "fingerprint": "0" * 16}), root=tmp_path)
    assert compare_runs(a.run_id, other.run_id, root=tmp_path).attrs["same_data"] is False


def test_record_comparison_writes_report_fidelity_and_run(experiment, tmp_path: Path) -> None:
    dataset, result = experiment
    recorded = record_comparison(dataset, result, out=tmp_path / "out", root=tmp_path / "runs")
    assert {p.name for p in recorded.written} == {"fidelity.csv", "report.html"}
    assert list_runs(tmp_path / "runs")["run_id"].tolist() == [recorded.run.run_id]
    assert recorded.run.fidelity is not None and set(recorded.run.fidelity["method"]) == {"real", "random"}
    report = (tmp_path / "out" / "report.html").read_text()
    assert recorded.run.run_id in report
    # Significance reaches the run folder and the report (it used to be missing from both outside the dashboard).
    assert recorded.run.significance is not None and recorded.run.significance["ci_low"].notna().any()
    verdicts = report.split("<h2>Verdict: the primary question</h2>")[1].split("<h2>")[0]
    assert "No augmented variant was compared" not in verdicts and "seed noise" in verdicts


def test_cli_compare_saves_a_run_that_runs_list_and_show_read(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    dataset, _ = small_experiment()
    data = tmp_path / "slice.csv"
    dataset.interactions[["user_id", "item_id", "rating", "timestamp"]].to_csv(data, index=False)
    out, store = tmp_path / "out", tmp_path / "store"
    code = main(
        [
            "compare",
            "--data",
            str(data),
            "--augment",
            "random",
            "--models",
            "pop",
            "--seeds",
            "0",
            "--out",
            str(out),
            "--runs-dir",
            str(store),
            "--quiet",
        ]
    )
    assert code == 0
    assert {"results.csv", "fidelity.csv", "report.html"} <= {p.name for p in out.iterdir()}
    fidelity = pd.read_csv(out / "fidelity.csv")
    assert {"method", "metric", "value", "range", "higher_is_better", "error"} <= set(fidelity.columns)
    printed = capsys.readouterr().out
    run_id = list_runs(store)["run_id"].iloc[0]
    assert f"saved run {run_id}" in printed
    assert main(["runs", "list", "--dir", str(store)]) == 0
    assert run_id in capsys.readouterr().out
    assert main(["runs", "show", run_id[:12], "--dir", str(store), "--full"]) == 0
    shown = capsys.readouterr().out
    assert run_id in shown and "fidelity:" in shown and "detection_auc" in shown and "random" in shown
    assert main(["runs", "show", "nope", "--dir", str(store)]) == 2


def test_the_experiments_llm_logs_reach_fidelity_and_the_store(experiment, tmp_path: Path) -> None:
    dataset, result = experiment
    log = pd.DataFrame(
        {
            "augmenter": "random",
            "accepted": [True, False, False],
            "seed": [0, 0, 1],
            "reason": ["accepted", "unmapped: the answer names no catalog item", "x"],
        }
    )
    with_log = type(result)(**{**result.__dict__, "logs": [log]})
    recorded = record_comparison(dataset, with_log, root=tmp_path)
    rates = recorded.fidelity.set_index(["method", "metric"])["value"]
    assert rates[("random", "llm_rejection_rate")] == 0.5  # seed 0 only: the rows the fidelity seed produced
    assert rates[("random", "llm_hallucination_rate")] == 0.5
    assert len(recorded.run.llm_log) == 3


def test_damaged_runs_are_listed_with_the_reason_and_block_nothing(
    experiment, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _, result = experiment
    good = [save_run(result, root=tmp_path) for _ in range(2)]
    no_config = save_run(result, root=tmp_path)
    (no_config.path / "config.json").unlink()
    truncated = save_run(result, root=tmp_path)
    text = (truncated.path / "config.json").read_text()
    (truncated.path / "config.json").write_text(text[: len(text) // 2])
    empty = save_run(result, root=tmp_path)
    (empty.path / "results.csv").write_text("")
    runs = list_runs(tmp_path).set_index("run_id")
    assert len(runs) == 5  # nothing hides
    assert runs.loc[no_config.run_id, "status"] == "damaged: config.json is missing"
    assert runs.loc[truncated.run_id, "status"].startswith("damaged: config.json is unreadable")
    assert runs.loc[empty.run_id, "status"].startswith("damaged: results.csv has 0 bytes but was saved with")
    assert (runs.loc[[r.run_id for r in good], "status"] == "ok").all()
    assert runs.loc[empty.run_id, "data"] == "ml-100k"  # what the record still says is shown
    with pytest.raises(RecaugInputError, match=r"damaged: results\.csv has 0 bytes"):
        load_run(empty.run_id, root=tmp_path)
    with pytest.raises(RecaugInputError, match=truncated.run_id):
        compare_runs(good[0].run_id, truncated.run_id, root=tmp_path)
    assert len(compare_runs(good[0].run_id, good[1].run_id, root=tmp_path))  # the healthy pair still compares
    for broken in (no_config, truncated, empty):
        assert main(["runs", "show", broken.run_id, "--dir", str(tmp_path)]) == 2
        assert "damaged" in capsys.readouterr().err
    assert main(["runs", "list", "--dir", str(tmp_path)]) == 0
    assert main(["runs", "delete", empty.run_id, "--dir", str(tmp_path), "--yes"]) == 0
    assert empty.run_id not in list_runs(tmp_path)["run_id"].tolist()


def test_a_failed_save_leaves_no_run_and_no_partial_folder(
    experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recaug.reporting.runs as runs

    _, result = experiment

    def broken(frame: pd.DataFrame) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(runs, "to_parquet_bytes", broken)
    with pytest.raises(OSError, match="disk full"):
        save_run(result, root=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_run_records_the_real_data_name_sources_label_and_reopens(experiment, tmp_path: Path) -> None:
    from recaug.reporting.runs import run_dataset, run_split

    dataset, result = experiment
    upload = type(dataset)(**{**dataset.__dict__, "name": "shop logs", "sources": ("shop.csv", "products.csv")})
    recorded = record_comparison(upload, result, root=tmp_path, label="first try")
    runs = list_runs(tmp_path)
    assert runs["data"].iloc[0] == "shop logs" and runs["sources"].iloc[0] == "shop.csv, products.csv"
    assert runs["label"].iloc[0] == "first try"
    reopened = run_dataset(load_run(recorded.run.run_id, root=tmp_path), root=tmp_path)
    assert reopened.fingerprint() == dataset.fingerprint() and reopened.name == "shop logs"
    split = run_split(recorded.run)
    assert split is not None and len(split) == len(result.split)


def test_keys_in_base_urls_never_reach_the_run_store(experiment, tmp_path: Path) -> None:
    _, result = experiment
    params = {"llm-interactions": {"base_url": "https://bob:sk-LEAK123@llm.example/v1"}}
    config = type(result.config)(**{**result.config.__dict__, "augmenter_params": params})
    run = save_run(type(result)(**{**result.__dict__, "config": config}), root=tmp_path)
    stored = (run.path / "config.json").read_text()
    assert "sk-LEAK123" not in stored and "https://***@llm.example/v1" in stored


def test_cli_names_headerless_data_and_labels_the_run(tmp_path: Path) -> None:
    dataset, _ = small_experiment()
    data = tmp_path / "ratings.dat"
    rows = dataset.interactions[["user_id", "item_id", "rating", "timestamp"]]
    data.write_text("\n".join("::".join(map(str, r)) for r in rows.itertuples(index=False)) + "\n")
    store = tmp_path / "store"
    args = ["compare", "--data", str(data), "--no-header", "--columns", "user,item,rating,time"]
    args += ["--name", "my movies", "--label", "dat test", "--augment", "random", "--models", "pop", "--seeds", "0"]
    assert main([*args, "--out", str(tmp_path / "out"), "--runs-dir", str(store), "--quiet"]) == 0
    runs = list_runs(store)
    assert runs["data"].iloc[0] == "my movies" and runs["label"].iloc[0] == "dat test"
    assert runs["sources"].iloc[0] == "ratings.dat"
    assert runs["fingerprint"].iloc[0] == type(dataset).from_frames(rows, name="x").fingerprint()  # same rows


def test_cli_refuses_tiny_data_before_compute(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "one.csv"
    data.write_text("user,item,rating\n1,2,-3\n")
    assert main(["compare", "--data", str(data), "--out", str(tmp_path / "out"), "--no-save", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "too small" in err and "1 users (at least 10 needed)" in err and "Traceback" not in err


def test_keys_in_base_urls_never_reach_the_report(experiment, tmp_path: Path) -> None:
    dataset, result = experiment
    params = {"llm-interactions": {"base_url": "http://user:sk-REPORTLEAK@10.0.0.1:8000/v1"}}
    config = type(result.config)(**{**result.config.__dict__, "augmenter_params": params})
    recorded = record_comparison(
        dataset, type(result)(**{**result.__dict__, "config": config}), out=tmp_path / "out", save=False
    )
    report = (tmp_path / "out" / "report.html").read_text()
    assert recorded.run is None and "sk-REPORTLEAK" not in report and "http://***@10.0.0.1:8000/v1" in report


def test_a_run_can_be_labelled_later(experiment, tmp_path: Path) -> None:
    from recaug.reporting.runs import set_run_label

    _, result = experiment
    run = save_run(result, root=tmp_path)
    assert set_run_label(run.run_id, "  baseline check ", root=tmp_path).meta["label"] == "baseline check"
    assert list_runs(tmp_path)["label"].tolist() == ["baseline check"]
    assert not list((run.path).glob(".*partial"))
