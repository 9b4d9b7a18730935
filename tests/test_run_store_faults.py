"""Issue #19's run store under faults: nothing hidden, nothing lost, nothing damaged listed as ok.

Damaged records of any kind ("seeds": 7, "sources": 5, an exception of any type), stray files and links, a cut
or changed results file, concurrent writers of the same data and writers killed mid-save.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import recaug.reporting.runs as runs
from recaug.__main__ import main
from recaug.core.atomic import STALE_AFTER_S
from recaug.core.errors import RecaugInputError
from recaug.data.store import load_saved_dataset, save_dataset
from recaug.reporting.runs import compare_runs, datasets_dir, delete_run, list_runs, load_run, save_run
from tests.runs_fixtures import small_experiment


@pytest.fixture(scope="module")
def experiment():
    return small_experiment()


def _edit_record(path: Path, **changes: Any) -> None:
    meta = json.loads((path / "config.json").read_text())
    for key, value in changes.items():
        if key.startswith("config."):
            meta["config"][key.removeprefix("config.")] = value
        else:
            meta[key] = value
    (path / "config.json").write_text(json.dumps(meta))


def test_records_of_the_wrong_type_are_damaged_and_block_nothing(
    experiment, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _, result = experiment
    good = save_run(result, root=tmp_path)
    broken = {change: save_run(result, root=tmp_path) for change in ("seeds", "sources", "config.models", "config")}
    _edit_record(broken["seeds"].path, seeds=7)
    _edit_record(broken["sources"].path, sources=5)
    _edit_record(broken["config.models"].path, **{"config.models": "pop"})
    _edit_record(broken["config"].path, config=[1, 2])
    listed = list_runs(tmp_path).set_index("run_id")["status"]
    assert listed[good.run_id] == "ok"
    assert listed[broken["seeds"].run_id] == "damaged: config.json: 'seeds' is 7, not a list of int"
    assert listed[broken["sources"].run_id] == "damaged: config.json: 'sources' is 5, not a list of str"
    assert (
        listed[broken["config.models"].run_id] == "damaged: config.json: 'config.models' is \"pop\", not a list of str"
    )
    assert listed[broken["config"].run_id] == "damaged: config.json: 'config' is [1, 2], not a mapping"
    assert main(["runs", "list", "--dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert all(run.run_id in printed for run in broken.values())
    for run in broken.values():
        assert main(["runs", "show", run.run_id, "--dir", str(tmp_path)]) == 2
        assert main(["runs", "compare", good.run_id, run.run_id, "--dir", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert "damaged" in err and "Traceback" not in err


def test_any_exception_while_looking_at_a_run_is_a_reason(
    experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, result = experiment
    first, second, third = (save_run(result, root=tmp_path) for _ in range(3))
    real_problem, real_row = runs._run_problem, runs._list_row

    def exploding_problem(path: Path, deep: bool) -> str | None:
        if path.name == first.run_id:
            raise RuntimeError("disk controller on fire")
        return real_problem(path, deep)

    def exploding_row(path: Path) -> dict[str, Any]:
        if path.name == second.run_id:
            raise KeyError("unexpected")
        return real_row(path)

    monkeypatch.setattr(runs, "_run_problem", exploding_problem)
    monkeypatch.setattr(runs, "_list_row", exploding_row)
    listed = list_runs(tmp_path).set_index("run_id")["status"]
    assert listed[first.run_id] == "damaged: the folder could not be read (RuntimeError: disk controller on fire)"
    assert listed[second.run_id].startswith("damaged: could not be listed (KeyError")
    assert listed[third.run_id] == "ok"
    with pytest.raises(RecaugInputError, match="disk controller on fire"):
        load_run(first.run_id, root=tmp_path)


def test_stray_files_and_links_are_listed_and_deleting_a_link_keeps_its_target(experiment, tmp_path: Path) -> None:
    _, result = experiment
    store, outside = tmp_path / "store", tmp_path / "outside"
    run = save_run(result, root=store)
    outside.mkdir()
    (outside / "keep.txt").write_text("precious")
    (store / "notes.txt").write_text("not a run")
    (store / "linked").symlink_to(outside)
    listed = list_runs(store).set_index("run_id")["status"]
    assert listed[run.run_id] == "ok"
    assert listed["notes.txt"] == "stray: a file, not a run folder"
    assert listed["linked"] == f"stray: a symbolic link to {outside}, not a run folder"
    with pytest.raises(RecaugInputError, match="not a run folder"):
        load_run("linked", root=store)
    delete_run("linked", root=store)
    delete_run("notes.txt", root=store)
    assert (outside / "keep.txt").read_text() == "precious"
    assert list_runs(store)["run_id"].tolist() == [run.run_id]


def test_a_cut_or_changed_results_file_is_damaged_never_ok(experiment, tmp_path: Path) -> None:
    _, result = experiment
    good, cut, changed, old = (save_run(result, root=tmp_path) for _ in range(4))
    text = (cut.path / "results.csv").read_bytes()
    (cut.path / "results.csv").write_bytes(text[: len(text) // 2])  # cut at a row boundary or not: same verdict
    lines = (changed.path / "results.csv").read_text().splitlines()
    lines[1] = lines[1][:-1] + ("1" if lines[1][-1] != "1" else "2")  # same size, one digit changed
    (changed.path / "results.csv").write_text("\n".join(lines) + "\n")
    _edit_record(old.path, manifest=None)  # a run saved before manifests existed
    (old.path / "manifest.json").unlink()
    listed = list_runs(tmp_path).set_index("run_id")["status"]
    assert (
        listed[cut.run_id]
        == f"damaged: results.csv has {len(text) // 2:,} bytes but was saved with {len(text):,} (cut or changed)"
    )
    assert listed[good.run_id] == "ok" and listed[old.run_id] == "ok"
    with pytest.raises(RecaugInputError, match=r"results\.csv has changed since it was saved"):
        load_run(changed.run_id, root=tmp_path)
    with pytest.raises(RecaugInputError, match=cut.run_id):
        compare_runs(good.run_id, cut.run_id, root=tmp_path)
    assert compare_runs(good.run_id, old.run_id, root=tmp_path)["delta"].abs().max() == 0
    (good.path / "manifest.json").unlink()
    assert list_runs(tmp_path).set_index("run_id")["status"][good.run_id] == "damaged: manifest.json is missing"


def test_leftovers_of_dead_saves_are_removed_once_stale(experiment, tmp_path: Path) -> None:
    _, result = experiment
    stale, fresh = tmp_path / ".20200101-000000-abcdef.x1.partial", tmp_path / ".20990101-000000-abcdef.x2.partial"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "results.csv").write_text("half")
    old = time.time() - STALE_AFTER_S - 60
    os.utime(stale, (old, old))
    save_run(result, root=tmp_path)
    assert not stale.exists() and fresh.exists()  # a save in progress elsewhere is never touched
    assert len(list_runs(tmp_path)) == 1


def _save_data(dataset: Any, folder: str, start: Any) -> None:
    start.wait()
    save_dataset(dataset, folder)


def _save_slowly(result: Any, dataset: Any, root: str, start: Any, events: Any) -> None:
    """A writer that says when it is inside a save (its temporary folder exists) and then takes its time.

    Each writer talks on its own pipe: a writer killed while holding a lock shared with the others (a
    `multiprocessing.Queue`'s) would leave the survivors waiting on it forever.
    """
    write = runs.to_csv_bytes

    def slow(frame: pd.DataFrame) -> bytes:
        events.send("inside")
        time.sleep(0.5)
        return write(frame)

    runs.to_csv_bytes = slow  # type: ignore[assignment]
    events.send("ready")
    start.wait()
    save_run(result, root=root, dataset=dataset)


def test_concurrent_saves_of_the_same_data_all_succeed(experiment, tmp_path: Path) -> None:
    dataset, _ = experiment
    upload = type(dataset)(**{**dataset.__dict__, "name": "shop", "sources": ("shop.csv",)})
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    writers = [context.Process(target=_save_data, args=(upload, str(tmp_path), start)) for _ in range(3)]
    for writer in writers:
        writer.start()
    start.set()
    for writer in writers:
        writer.join(120)
    assert [w.exitcode for w in writers] == [0, 0, 0]
    assert [p.name for p in tmp_path.iterdir()] == [upload.fingerprint()]  # one copy, no temporary folder left
    assert load_saved_dataset(upload.fingerprint(), tmp_path).fingerprint() == upload.fingerprint()


def test_writers_killed_mid_save_leave_no_run_listed_as_ok_that_is_not(experiment, tmp_path: Path) -> None:
    dataset, result = experiment
    upload = type(dataset)(**{**dataset.__dict__, "name": "shop", "sources": ("shop.csv",)})
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    pipes = [context.Pipe(duplex=False) for _ in range(4)]
    writers = [
        context.Process(target=_save_slowly, args=(result, upload, str(tmp_path), start, sender), daemon=True)
        for _, sender in pipes
    ]
    by_reader = {reader: writer for (reader, _), writer in zip(pipes, writers, strict=True)}
    try:
        for writer in writers:
            writer.start()
        assert [reader.recv() if reader.poll(300) else None for reader, _ in pipes] == ["ready"] * 4
        start.set()  # four saves at once
        killed: list[int] = []
        while len(killed) < 2:  # each of the first two writers to be inside a save is killed there
            ready = wait([r for r in by_reader if by_reader[r].pid not in killed], timeout=300)
            assert ready, "no writer got inside a save in 300 s"
            for reader in ready:
                writer = by_reader[reader]
                if len(killed) < 2 and reader.recv() == "inside" and writer.pid not in killed:
                    os.kill(writer.pid, signal.SIGKILL)
                    killed.append(writer.pid)
        for writer in writers:  # a few short messages each: a pipe's buffer never fills
            writer.join(120)
    finally:
        for writer in writers:  # never leave a writer behind to hang the test run at exit
            if writer.is_alive():
                writer.kill()
    assert sorted(w.exitcode for w in writers if w.pid in killed) == [-signal.SIGKILL, -signal.SIGKILL]
    finished = [w for w in writers if w.pid not in killed and w.exitcode == 0]
    assert len(finished) == 2, [w.exitcode for w in writers]
    listed = list_runs(tmp_path)
    assert (listed["status"] == "ok").all(), listed["status"].tolist()  # a killed save is never a run
    assert len(listed) == len(finished)
    for run_id in listed["run_id"]:
        loaded = load_run(run_id, root=tmp_path)
        pd.testing.assert_frame_equal(loaded.results, result.results, check_dtype=False)
    assert load_saved_dataset(upload.fingerprint(), datasets_dir(tmp_path)).name == "shop"
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert len(leftovers) == 2  # the kills landed mid-save: their temporary folders are there, hidden from the list
    old = time.time() - STALE_AFTER_S - 60
    for folder in leftovers:
        os.utime(folder, (old, old))
    list_runs(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_concurrent_labels_never_corrupt_the_record(experiment, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from recaug.reporting.runs import set_run_label

    _, result = experiment
    run = save_run(result, root=tmp_path)
    labels = [f"label {n}" for n in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda label: set_run_label(run.run_id, label, root=tmp_path), labels))
    assert load_run(run.run_id, root=tmp_path).meta["label"] in labels
    assert list_runs(tmp_path)["status"].tolist() == ["ok"]
    assert not [p for p in run.path.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_results_without_a_column_that_compare_reads_are_damage(
    experiment, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _, result = experiment
    good, old = save_run(result, root=tmp_path), save_run(result, root=tmp_path)
    _edit_record(old.path, manifest=None)  # saved before manifests: only the content can tell
    (old.path / "manifest.json").unlink()
    result.results.drop(columns=["slice"]).to_csv(old.path / "results.csv", index=False)
    assert (
        list_runs(tmp_path).set_index("run_id")["status"][old.run_id]
        == "damaged: results.csv lacks the column(s) slice"
    )
    assert main(["runs", "compare", good.run_id, old.run_id, "--dir", str(tmp_path)]) == 2
    assert "lacks the column(s) slice" in capsys.readouterr().err
