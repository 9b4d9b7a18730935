"""The CLI as a terminal user meets it (walk 13 E): argument errors name the flag, usage names the command typed,
--budget takes 10% as --budgets does, --target takes user ids, help lists every model and true defaults, `runs`
takes --dir and --runs-dir, `runs show` leads with the verdicts, `runs delete` asks first, and --config takes a
saved run's id."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recaug.__main__ import build_parser, main
from recaug.models import MODELS
from recaug.reporting.runs import list_runs, load_run

FAST = ["--augment", "random", "--models", "pop", "--quiet", "--no-llm-estimate", "--executor", "serial"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One real comparison of a small file (100 users), 3 seeds, saved in a run store: --budget 5%, three users."""
    root = tmp_path_factory.mktemp("walk13cli")
    rng = np.random.default_rng(0)
    rows = [
        (f"u{u}", f"i{i}", int(rng.integers(1, 6)), 1_700_000_000 + int(rng.integers(0, 10**7)))
        for u in range(100)
        for i in rng.choice(80, size=12 + u % 15, replace=False)
    ]
    data = root / "ratings.csv"
    pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]).to_csv(data, index=False)
    paths = {"data": data, "out": root / "out", "runs": root / "runs"}
    where = ["--data", str(data), "--out", str(paths["out"]), "--runs-dir", str(paths["runs"])]
    code = main(["compare", *where, *FAST, "--seeds", "0,1,2", "--budget", "5%", "--target", "ids:u1,u2,u3"])
    assert code == 0
    (paths["run"],) = [p for p in paths["runs"].iterdir() if not p.name.startswith(".") and p.name != "datasets"]
    return paths


def _parse_error(capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["compare", "--out", "x", *flags])
    assert stop.value.code == 2
    return capsys.readouterr().err


def test_budget_percent_and_a_list_of_target_users_reach_the_saved_run(saved: dict[str, Path]) -> None:
    assert build_parser().parse_args(["compare", "--out", "x", "--budget", "10%"]).budget == 0.1  # was refused
    assert build_parser().parse_args(["compare", "--out", "x", "--budgets", "2%,500"]).budgets == [0.02, 500]
    config = json.loads((saved["out"] / "config.json").read_text())
    assert config["budget"] == 0.05 and config["target"] == ["u1", "u2", "u3"]
    run = load_run(saved["run"].name, saved["runs"])  # a list target is not "damaged"
    assert run.config.target == ["u1", "u2", "u3"]
    assert list_runs(saved["runs"])["status"].tolist() == ["ok"]


def test_argument_errors_name_the_flag_and_usage_the_command_typed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["/home/me/.venv/bin/recaug", "compare"])
    err = _parse_error(capsys, "--seeds", "0,1,x")
    assert "usage: recaug compare" in err and "argument --seeds: expected whole numbers" in err
    assert "<lambda>" not in err and "python -m recaug" not in err
    assert "cannot read the budget 'lots'" in _parse_error(capsys, "--budget", "lots")
    assert "argument --kcore: expected 0 or more, got -1" in _parse_error(capsys, "--kcore", "-1")
    assert "ids:ID1,ID2" in _parse_error(capsys, "--target", "light users")
    assert "expected user ids" in _parse_error(capsys, "--target", "ids:")
    monkeypatch.setattr(sys, "argv", ["/x/recaug/__main__.py"])
    assert "usage: python -m recaug compare" in _parse_error(capsys, "--seeds", "x")


def test_help_lists_every_registered_model_and_true_defaults(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["recaug"])
    monkeypatch.setenv("COLUMNS", "2000")  # one line per option: no wrapping inside names such as bpr-tuned
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # unwrapped
    assert all(name in shown for name in MODELS.names()) and "als, " in shown and "bpr-tuned" in shown
    for default in ("pop,itemknn,bpr", "ml-100k", "10%", "light-users"):
        assert f"(default: {default})" in shown, default
    assert "$RECAUG_RUNS_DIR if set, else $RECAUG_HOME/runs" in shown and "ids:u1,u2,u3" in shown
    assert "a saved run's id" in shown  # --config


def test_runs_takes_dir_and_runs_dir_with_or_without_list(
    saved: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["runs", "--dir"], ["runs", "--runs-dir"], ["runs", "list", "--runs-dir"], ["runs", "list", "--dir"]):
        assert main([*argv, str(saved["runs"])]) == 0, argv
        assert saved["run"].name in capsys.readouterr().out, argv


def test_runs_show_leads_with_the_verdicts_and_full_prints_the_tables(
    saved: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    tail = saved["run"].name[-6:]
    assert main(["runs", "show", tail, "--dir", str(saved["runs"])]) == 0
    short = capsys.readouterr().out
    assert short.startswith(f"run {saved['run'].name}") and "primary question" in short and "ndcg@10" in short
    assert "fidelity:" not in short and "significance:" not in short
    assert short.rstrip().endswith(f"runs show {tail} --full") and len(short.splitlines()) < 40
    assert main(["runs", "show", tail, "--dir", str(saved["runs"]), "--full"]) == 0
    full = capsys.readouterr().out
    assert "fidelity:" in full and "significance:" in full and len(full.splitlines()) > len(short.splitlines())


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_runs_delete_asks_on_a_terminal_and_elsewhere_needs_yes(
    saved: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "runs"
    ids = [f"20200101-00000{n}-abcde{n}" for n in range(3)]
    for run_id in ids:
        shutil.copytree(saved["run"], store / run_id)
    delete = ["runs", "delete", "--dir", str(store)]
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: refused, naming --yes
    assert main([*delete, ids[0]]) == 2
    err = capsys.readouterr().err
    assert "--yes" in err and ids[0] in err and (store / ids[0]).is_dir()
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    assert main([*delete, ids[0]]) == 1 and (store / ids[0]).is_dir()
    asked = capsys.readouterr().out
    assert f"delete run {ids[0]} (created " in asked and "data ratings.csv)? [y/N]" in asked
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    assert main([*delete, ids[0]]) == 0 and not (store / ids[0]).exists()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main([*delete, ids[1], "--yes"]) == 0 and not (store / ids[1]).exists()
    assert (store / ids[2]).is_dir()


def test_config_takes_a_saved_runs_id(
    saved: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    again = tmp_path / "again"
    rerun = ["compare", "--config", saved["run"].name[-6:], "--runs-dir", str(saved["runs"]), "--no-save", "--quiet"]
    assert main([*rerun, "--out", str(again), "--executor", "serial", "--no-llm-estimate"]) == 0
    assert (again / "results.csv").read_bytes() == (saved["out"] / "results.csv").read_bytes()
    assert main(["compare", "--config", "zzzzzz", "--runs-dir", str(saved["runs"]), "--out", str(tmp_path)]) == 2
    assert "--config zzzzzz: no such file or folder, and no run 'zzzzzz'" in capsys.readouterr().err


def test_a_cli_rerun_words_reading_errors_with_the_cli_flags(
    saved: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.csv"
    pd.DataFrame({"foo": ["a", "b"] * 60, "bar": ["x", "y", "z"] * 40}).to_csv(other, index=False)
    rerun = ["compare", "--config", str(saved["out"]), "--data", str(other), "--out", str(tmp_path / "o")]
    assert main(rerun) == 2
    err = capsys.readouterr().err
    assert "--columns" in err and "mapping=" not in err


def test_repeated_seeds_are_refused_before_the_data_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Walk 13 (F): `--seeds 0,0,1` was refused only after the data had loaded and its notes printed."""
    missing = tmp_path / "not-there.csv"
    code = main(["compare", "--data", str(missing), "--seeds", "0,0,1", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "seed 0 is given twice" in err and "not-there.csv" not in err
