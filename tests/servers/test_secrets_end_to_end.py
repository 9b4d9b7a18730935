"""A key typed into the base URL, through the whole CLI against a real local server (issue 19): what the server
received, and that the key appears in no file written (outputs, report.html, run store, response cache), on
stdout/stderr, or in any log record."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from recaug.__main__ import main
from recaug.text.llm.local import LocalBackend
from tests.servers.llm_fixtures import LLM_COMPARE, llm_home  # noqa: F401  (fixture)
from tests.servers.openai_stub import OpenAIStub


def test_a_key_in_the_base_url_is_never_sent_shown_or_written(
    llm_home: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx/httpcore included: nothing they log may carry the key
    out, runs = tmp_path / "out", tmp_path / "runs"
    with OpenAIStub(LocalBackend(cache=False, dtype="float32")) as server:
        host = server.url.removeprefix("http://")
        code = main(
            [
                *LLM_COMPARE,
                "--llm-backend",
                "openai",
                "--llm-base-url",
                f"http://user:SECRETpw1@{host}?key=SECRETq2&api-version=7",
                "--llm-target",
                "all",
                "--llm-max-users",
                "2",
                "--llm-max-calls",
                "3",
                "--llm-min-skill",
                "off",  # the skill check is not the subject (its ~130 calls were most of this test's minutes)
                *("--param", "llm-interactions.n_candidates=4", "--param", "llm-interactions.history_size=3"),
                "--out",
                str(out),
                "--runs-dir",
                str(runs),
                "--quiet",
            ]
        )
        urls, authorization = list(server.urls), list(server.authorization)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # What the server received: the request path before the query, no credentials, no Basic auth.
    assert "/v1/completions?api-version=7" in urls and all("SECRET" not in u for u in urls)
    assert all(a is None for a in authorization)
    written = [p for root in (out, runs, llm_home) for p in root.rglob("*") if p.is_file()]
    assert any(p.name == "report.html" for p in written) and any(p.name == "config.json" for p in written)
    for path in written:
        assert b"SECRET" not in path.read_bytes(), path
    assert "SECRET" not in captured.out + captured.err and "estimate per seed" in captured.err
    assert all("SECRET" not in record.getMessage() for record in caplog.records)
    # Every request the server saw is in cost.csv: the run's own, its set-up (model list, probe) and the estimate's.
    cost = pd.read_csv(out / "cost.csv").set_index("variant").loc["llm-interactions"]
    assert cost["llm_requests"] + cost["llm_estimate_requests"] == len(urls)
