"""``python -m recaug compare`` with an LLM augmenter: the --llm-* options, llm_log.jsonl, and no secret on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from recaug.__main__ import main
from tests.servers.llm_fixtures import llm_home  # noqa: F401  (fixture)


def test_compare_writes_the_llm_log_and_never_the_key(
    llm_home: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECAUG_LLM_API_KEY", "sk-never-written-anywhere")
    out = tmp_path / "run"
    code = main(
        [
            "compare",
            "--data",
            "ml-100k",
            "--augment",
            "llm-interactions",
            "--models",
            "pop",
            "--seeds",
            "0",
            "--budget",
            "10",
            "--llm-backend",
            "local",
            "--llm-target",
            "all",
            "--llm-max-users",
            "3",
            "--out",
            str(out),
            "--quiet",
            "--no-save",
        ]
    )
    assert code == 0
    config = json.loads((out / "config.json").read_text())
    assert config["augmenter_params"] == {"llm-interactions": {"backend": "local", "target": "all", "max_users": 3}}
    info = config["augment_info"][0]
    assert info["target"] == "all users" and info["users_prompted"] == 3 and info["calls"] == 3
    log = [json.loads(line) for line in (out / "llm_log.jsonl").read_text().splitlines()]
    assert len(log) == 3 and {row["seed"] for row in log} == {0}
    assert all(
        row["augmenter"] == "llm-interactions"
        and len(row["history_item_ids"]) > 0
        and len(row["candidate_item_ids"]) == 10
        for row in log
    )
    synthetic = pd.read_csv(out / "augmented.csv", dtype=str)
    assert len(synthetic) == 3 and set(synthetic["prompt_id"]) == {row["prompt_id"] for row in log}
    cost = pd.read_csv(out / "cost.csv").set_index("variant")
    assert cost.loc["llm-interactions", "llm_calls"] == 3 and cost.loc["llm-interactions", "llm_tokens_in"] > 100
    assert cost.loc["llm-interactions", "synthetic_rows"] == 3 and cost.loc["llm-interactions", "augment_seconds"] > 0
    for path in out.iterdir():
        assert b"sk-never-written-anywhere" not in path.read_bytes(), path.name
