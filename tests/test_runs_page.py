"""The Runs page under a damaged store and hostile names (issue 19): it lists, it never crashes, it renders text."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import recaug.reporting.runs as runs
from recaug.reporting.runs import save_run
from tests.app.conftest import app  # noqa: F401  (the fixture is used by name)
from tests.runs_fixtures import small_experiment

PIXEL = "![x](http://127.0.0.1:9/pixel.png)"


def test_a_store_that_cannot_be_listed_is_one_message_not_a_name_error(
    app: AppTest,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreadable(root: object = None) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(runs, "list_runs", unreadable)
    app.switch_page("pages/6_Runs.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("Could not list the saved runs" in e.value and "PermissionError" in e.value for e in app.error)


def test_damaged_stray_and_hostile_entries_are_listed_as_text(app: AppTest) -> None:  # noqa: F811
    dataset, result = small_experiment()
    root = Path(os.environ["RECAUG_RUNS_DIR"])
    hostile = type(dataset)(**{**dataset.__dict__, "name": f"shop {PIXEL} :red[alert]", "sources": ("s.csv",)})
    good = save_run(result, root=root, dataset=hostile, label=PIXEL)
    seeds = save_run(result, root=root)
    meta = json.loads((seeds.path / "config.json").read_text())
    (seeds.path / "config.json").write_text(json.dumps({**meta, "seeds": 7}))
    (root / "![x](pixel.png)").write_text("stray")
    app.switch_page("pages/6_Runs.py").run()
    assert not app.exception, [e.value for e in app.exception]
    warning = " ".join(w.value for w in app.warning)
    assert "2 entries cannot be opened" in warning
    assert "`damaged: config.json: 'seeds' is 7, not a list of int`" in warning
    assert "`stray: a file, not a run folder`" in warning
    shown = " ".join([warning, *(c.value for c in app.caption), *(s.value for s in app.success)])
    assert good.run_id in app.selectbox(key="runs_pick").options[0]
    # Every markdown element shows the name as text: no unescaped image or colour directive remains.
    assert "`![x](pixel.png)`" in warning  # a file name in a code span is shown verbatim, never rendered
    assert not re.search(r"(?<!\\)!(?<!\\)\[x(?<!\\)\]\(", shown.replace("`![x](pixel.png)`", ""))
    assert "shop \\!\\[x\\]\\(http" in shown and "\\:red\\[alert\\]" in shown
