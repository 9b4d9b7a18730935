"""The run store: save, list, reload, compare; and the CLI that reads it and writes report/fidelity."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from recaug.__main__ import main
from recaug.errors import RecaugInputError
from recaug.fidelity import fidelity_for_experiment
from recaug.runs import (
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
        "results.csv",
        "significance.csv",
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
    assert "Not computed for this run" not in report.split("<h2>Significance</h2>")[1].split("<h2>")[0]


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
    assert main(["runs", "show", run_id[:12], "--dir", str(store)]) == 0
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
