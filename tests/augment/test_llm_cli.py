"""``python -m recaug compare`` with an LLM augmenter: the --llm-* options, llm_log.jsonl, and no secret on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from recaug.__main__ import main
from tests.servers.llm_fixtures import LLM_COMPARE, llm_home  # noqa: F401  (fixture)


def test_compare_writes_the_llm_log_and_never_the_key(
    llm_home: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RECAUG_LLM_API_KEY", "sk-never-written-anywhere")
    out = tmp_path / "run"
    code = main(
        [
            *LLM_COMPARE,
            "--llm-backend",
            "local",
            "--llm-target",
            "all",
            "--llm-max-users",
            "3",
            "--llm-max-calls",
            "3",
            "--param",
            "llm-interactions.negatives=true",
            "--llm-min-skill",
            "off",  # this test is about the cap (the skill check has its own test)
            "--out",
            str(out),
            "--quiet",
            "--no-save",
        ]
    )
    assert code == 0
    config = json.loads((out / "config.json").read_text())
    assert config["augmenter_params"] == {
        "llm-interactions": {
            "negatives": True,
            "backend": "local",
            "target": "all",
            "max_users": 3,
            "max_calls": 3,
            "item_noun": "movie",  # the built-in MovieLens data: prompts say "movie"
            "min_skill": "off",
        }
    }
    info = config["augment_info"][0]
    # The cap of 3 calls covers 2 of the 3 users (one call each) and the calibration call for their candidates.
    assert info["target"] == "all users" and info["users_targeted"] == 3 and info["users_prompted"] == 2
    assert info["calls"] == 3 and info["calibration_calls"] == 1 and info["calls_capped"] and not info["budget_reached"]
    log = [json.loads(line) for line in (out / "llm_log.jsonl").read_text().splitlines()]
    assert len(log) == 2 and {row["seed"] for row in log} == {0}
    assert all(
        row["augmenter"] == "llm-interactions"
        and len(row["history_item_ids"]) > 0
        and len(row["candidate_item_ids"]) == 10
        for row in log
    )
    synthetic = pd.read_csv(out / "augmented.csv", dtype=str)
    positives = synthetic[synthetic["polarity"] == "1"]
    assert len(positives) == info["kept"] <= 10 and set(synthetic["polarity"]) <= {"1", "-1"}
    assert set(synthetic["prompt_id"]) <= {row["prompt_id"] for row in log}
    assert all("movie" in row["prompt"] for row in log)
    cost = pd.read_csv(out / "cost.csv").set_index("variant")
    row = cost.loc["llm-interactions"]
    assert row["llm_calls"] == 3 and row["llm_tokens_in"] > 100 and row["llm_failures"] == 0
    assert row["synthetic_rows"] == info["kept"] and row["budget"] == 20 and row["budget_filled"] < 1
    assert row["augment_seconds"] > 0
    err = capsys.readouterr().err
    assert (
        "estimate per seed: llm-interactions: about 3 LLM calls (cap 3; 4 would cover every targeted user or item)"
        in err
    )
    assert "warning: llm-interactions (seed 0): budget not reached" in err and "LLM-call cap (3)" in err
    for path in out.iterdir():
        assert b"sk-never-written-anywhere" not in path.read_bytes(), path.name


def test_compare_runs_the_skill_check_first_and_stores_it(
    llm_home: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out, runs = tmp_path / "run", tmp_path / "runs"
    code = main(
        [
            *LLM_COMPARE,
            "--llm-max-users",
            "3",
            "--llm-max-calls",
            "4",
            "--param",
            "llm-interactions.skill_users=20",
            "--no-aa-control",
            "--out",
            str(out),
            "--runs-dir",
            str(runs),
            "--quiet",
        ]
    )
    assert code == 0
    info = json.loads((out / "config.json").read_text())["augment_info"][0]
    skill = pd.read_csv(out / "llm_skill.csv")
    assert list(skill.columns) == ["scorer", "hit_rate", "ci_low", "ci_high", "chance", "n_users", "failed", "seed"]
    assert list(skill["scorer"]) == ["llm", "encoder", "popularity", "chance"] and (skill["n_users"] == 20).all()
    assert (skill["chance"] == 0.1).all() and (skill["ci_low"] <= skill["hit_rate"]).all()
    assert info["skill_calls"] >= 20
    assert (info["calls"] > 0) == info["llm_skill_passed"], "spends only when the check passed (default rule)"
    stdout, err = capsys.readouterr()
    assert "LLM skill check: seed 0: local LLM" in stdout and "plus a skill check of about" in err
    (saved,) = [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert pd.read_csv(saved / "llm_skill.csv").equals(skill)
    assert "LLM skill check: seed 0" in (out / "report.html").read_text()
