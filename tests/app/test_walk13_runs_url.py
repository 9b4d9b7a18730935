"""Walk 13 (D), Runs: the run the URL names (?run=<id>) is the one inspected, not the newest (which may be someone
else's); a URL naming no saved run says so in one line and shows the newest."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from streamlit.testing.v1 import AppTest

from recaug.reporting.runs import list_runs, save_run
from tests.app.conftest import app, no_errors  # noqa: F401  (the fixture is used by name)
from tests.runs_fixtures import small_experiment
from ui.state import RUN_PARAM


def _two_runs() -> tuple[str, str]:
    """(newest, older) ids of two saved runs, as the Runs page lists them."""
    store = Path(os.environ["RECAUG_RUNS_DIR"])
    _, result = small_experiment()
    save_run(result, root=store)
    save_run(replace(result, results=result.results[result.results["model"] == "pop"]), root=store)
    newest, older = list_runs(store)["run_id"].tolist()[:2]
    return newest, older


def test_runs_opens_the_run_the_url_names(app: AppTest) -> None:  # noqa: F811
    _, older = _two_runs()
    app.query_params[RUN_PARAM] = older
    app.switch_page("pages/6_Runs.py").run()
    no_errors(app)
    assert app.selectbox(key="runs_pick").value == older  # the newest before
    assert [box.key for box in app.text_input if box.key.startswith("runs_label_")] == [f"runs_label_{older}"]
    assert not [box for box in app.info if "link names run" in box.value]


def test_an_unknown_run_in_the_url_says_so_once_and_shows_the_newest(app: AppTest) -> None:  # noqa: F811
    newest, _ = _two_runs()
    app.query_params[RUN_PARAM] = "20990101-000000-zzzzzz"
    app.switch_page("pages/6_Runs.py").run()
    no_errors(app)
    lines = [box.value.replace("\\", "") for box in app.info if "link names run" in box.value]
    assert lines == [
        "The link names run `20990101-000000-zzzzzz`, which is not among the saved runs; showing the newest run "
        "instead."
    ]
    assert app.selectbox(key="runs_pick").value == newest
