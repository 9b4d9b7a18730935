"""Walk 11b's Runs findings: the seeds that ran, the id tail, readable report, report download, delete, and
comparing two runs (shared rows first, shared arms made differently named)."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import recaug
from recaug.__main__ import main
from recaug.core.errors import RecaugInputError
from recaug.experiment import ExperimentResult
from recaug.reporting.runs import describe_run, list_runs, load_run, run_report, save_run
from tests.app.conftest import app, no_errors  # noqa: F401  (the fixture is used by name)
from tests.runs_fixtures import small_experiment

ADDED = "0, 1 (1 fixed + 1 added until decided, limit 3)"


def _sequential() -> ExperimentResult:
    """The fixture's run as one that started from seed 0 and added seed 1 until decided (limit 3): its results hold
    seeds 0 and 1, its config the one seed it started with."""
    _, result = small_experiment()
    config = replace(result.config, seeds=[0], max_seeds=3, seeds_run=[0, 1], stopped="reached the seed limit")
    return replace(result, config=config)


def _denoised_pop_only() -> ExperimentResult:
    """The fixture's run with the arm denoised and only Pop's rows: the same arm made differently, fewer rows."""
    _, result = small_experiment()
    config = replace(result.config, augmenter_params={"random": {"denoise": 0.2}})
    return replace(result, config=config, results=result.results[result.results["model"] == "pop"])


def _store() -> Path:
    return Path(os.environ["RECAUG_RUNS_DIR"])


def test_seeds_added_until_decided_show_as_ran_in_list_show_and_header(app: AppTest) -> None:  # noqa: F811
    run = save_run(_sequential(), root=_store())
    listed = list_runs(_store()).set_index("run_id")["seeds"]
    assert listed[run.run_id] == "0,1 (1 fixed + 1 added until decided, limit 3)"  # it read "0" before
    assert f"seeds {ADDED}" in describe_run(load_run(run.run_id, _store()))
    app.switch_page("pages/6_Runs.py").run()
    no_errors(app)
    assert any(f"seeds **{ADDED}**" in caption.value.replace("\\", "") for caption in app.caption)


def test_the_visible_id_tail_opens_a_run_everywhere(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    _, result = small_experiment()
    run = save_run(result, root=tmp_path)
    tail, time_part = run.run_id.split("-")[2], run.run_id.split("-")[1]
    assert load_run(tail, tmp_path).run_id == run.run_id  # "no run 'b400d2'" before
    assert load_run(time_part, tmp_path).run_id == run.run_id
    assert recaug.load_run(tail, runs_dir=tmp_path).run_id == run.run_id
    assert main(["runs", "show", tail, "--dir", str(tmp_path)]) == 0
    assert run.run_id in capsys.readouterr().out
    twin = f"20200101-000000-{tail}"
    shutil.copytree(run.path, tmp_path / twin)
    with pytest.raises(RecaugInputError, match=rf"'{tail}' matches 2 runs \(.*{run.run_id}.*{twin}"):
        load_run(tail, tmp_path)
    with pytest.raises(RecaugInputError, match="its last 6 characters"):
        load_run("zzzzzz", tmp_path)


def test_report_of_a_saved_run_is_built_from_its_tables(tmp_path: Path) -> None:
    run = save_run(_sequential(), root=tmp_path)
    page = run_report(load_run(run.run_id, tmp_path))
    assert run.run_id in page and "<dt>seeds</dt><dd>0, 1</dd>" in page
    assert "2 seeds ran (0, 1); stopped: reached the seed limit" in page  # how the seeds came about, as saved
    assert "q (BH)" in page and "q_ttest" not in re.findall(r"<th>([^<]*)</th>", page)


def _button(page: AppTest, key: str) -> bool:
    return any(button.key == key for button in page.button)


def test_runs_page_deletes_a_healthy_run_only_after_confirming(app: AppTest) -> None:  # noqa: F811
    _, result = small_experiment()
    run = save_run(result, root=_store())
    app.switch_page("pages/6_Runs.py").run()
    no_errors(app)
    assert any(element.proto.label == "Download the HTML report" for element in app.get("download_button"))
    app.button(key="runs_delete_run").click().run()
    assert any("cannot be undone" in warning.value for warning in app.warning)
    app.button(key="runs_delete_no").click().run()
    assert run.path.exists() and _button(app, "runs_delete_run")  # cancelled: kept, the first button is back
    app.button(key="runs_delete_run").click().run()
    app.button(key="runs_delete_yes").click().run()
    no_errors(app)
    assert not run.path.exists() and list_runs(_store()).empty


def test_two_runs_show_shared_rows_first_and_name_how_a_shared_arm_differs(app: AppTest) -> None:  # noqa: F811
    sequential = save_run(_sequential(), root=_store())
    save_run(_denoised_pop_only(), root=_store())
    app.switch_page("pages/6_Runs.py").run()
    no_errors(app)
    table = app.dataframe[-1].value  # the side-by-side table, the page's last
    a_is_sequential = app.selectbox(key="runs_a").value == sequential.run_id  # ids saved in one second: any order
    a, b = ("A", "B") if a_is_sequential else ("B", "A")
    places = table["in"].tolist()
    assert places == sorted(places, key=["both", "A only", "B only"].index) and places[0] == "both"
    assert f"{a} only" in places  # itemknn's rows (only the sequential run has them) sorted first before
    note = " ".join(warning.value.replace("\\", "") for warning in app.warning)
    settings = {"A": "defaults", "B": "denoise=0.2"} if a_is_sequential else {"A": "denoise=0.2", "B": "defaults"}
    assert f"random's settings A {settings['A']} vs B {settings['B']}" in note
    seeds = {a: ADDED, b: "0, 1 (fixed)"}
    assert f"seeds A {seeds['A']} vs B {seeds['B']}" in note


def test_cli_runs_compare_puts_shared_rows_first_and_notes_the_arm_difference(
    capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    sequential = save_run(_sequential(), root=tmp_path)
    denoised = save_run(_denoised_pop_only(), root=tmp_path)
    assert main(["runs", "compare", sequential.run_id, denoised.run_id, "--dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "note: The arm both runs have (random) was not made the same way: random's settings A defaults" in printed
    rows = printed.split("primary rows of both runs")[1].splitlines()[2:]
    places = [next(word for word in ("both", "A only", "B only") if word in row) for row in rows if row.strip()]
    assert places[0] == "both" and places == sorted(places, key=["both", "A only", "B only"].index)
