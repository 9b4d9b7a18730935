"""Home and Runs under AppTest (issue #12): header-less '::' uploads, all-or-nothing loading, the data radio,
damaged runs, reopening a run, and restoring after a browser refresh."""

from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from recaug.reporting.runs import list_runs, save_run
from tests.app.conftest import REPO, no_errors
from tests.runs_fixtures import small_experiment

DAT = "".join(f"{u}::{i:07d}::{1 + (u * i) % 10}::{1_000_000 + u * 100 + i}\r\n" for u in range(12) for i in range(12))


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _upload(at: AppTest, key: str, name: str, data: bytes) -> None:
    at.file_uploader(key=key).set_value((name, data, "text/plain")).run()


def test_headerless_double_colon_upload_with_a_name(app: AppTest) -> None:
    app.radio(key="data_source").set_value("Upload my data").run()
    _upload(app, "upload_interactions", "ratings.dat", DAT.encode())
    no_errors(app)
    assert app.selectbox(key="map_user_id_ratings.dat").value == "column_1"
    assert app.selectbox(key="map_rating_ratings.dat").value == "column_3"
    assert any("first line holds data" in c.value for c in app.caption)
    app.text_input(key="data_name_ratings.dat").set_value("imdb ratings").run()
    app.button(key="load_upload").click().run()
    no_errors(app)
    assert _metrics(app)["Users"] == "12" and _metrics(app)["Items"] == "12"
    assert any("**imdb ratings** · from ratings.dat" in c.value for c in app.caption)
    assert app.query_params["data"]  # a refresh can find the data again
    # The radio keeps "Upload my data" after leaving Home and coming back.
    app.switch_page("pages/6_Runs.py").run()
    app.switch_page("app.py").run()
    assert app.radio(key="data_source").value == "Upload my data"


def test_failing_items_file_keeps_the_previous_dataset(app: AppTest) -> None:
    app.radio(key="data_source").set_value("Upload my data").run()
    _upload(app, "upload_interactions", "ratings.dat", DAT.encode())
    _upload(app, "upload_items", "items.csv", b"<html><body>not a table</body></html>")
    app.button(key="load_upload").click().run()
    assert any("web page" in e.value for e in app.error)
    assert any("ml-100k, stays loaded" in e.value for e in app.error)
    assert _metrics(app)["Users"] == "943"  # nothing was replaced, not even partly
    assert not app.exception


def test_items_mapping_makes_title_plus_genres_the_text(app: AppTest) -> None:
    app.radio(key="data_source").set_value("Upload my data").run()
    _upload(app, "upload_interactions", "ratings.dat", DAT.encode())
    items = "movieId,title,genres\n" + "".join(f"{i:07d},Film {i},Drama|Comedy\n" for i in range(12))
    _upload(app, "upload_items", "movies.csv", items.encode())
    assert app.multiselect(key="items_text_movies.csv").value == ["genres"]
    app.button(key="load_upload").click().run()
    no_errors(app)
    dataset = app.session_state["dataset"]
    assert dataset.items["text"].iloc[0] == "Film 0. Genres: Drama, Comedy."
    assert dataset.sources == ("ratings.dat", "movies.csv")


def test_runs_page_lists_damaged_runs_and_reopens_a_run(app: AppTest) -> None:
    dataset, result = small_experiment()
    root = Path(os.environ["RECAUG_RUNS_DIR"])
    good = save_run(result, root=root, dataset=dataset, label="keep me")
    other = save_run(result, root=root, dataset=dataset)
    broken = save_run(result, root=root)
    (broken.path / "results.csv").write_text("")
    assert len(list_runs(root)) == 3
    app.switch_page("pages/6_Runs.py").run()
    no_errors(app)
    assert any(broken.run_id in w.value and "results.csv has 0 bytes" in w.value for w in app.warning)
    assert app.selectbox(key="runs_pick").options == sorted([good.run_id + " · keep me", other.run_id], reverse=True)
    compared = app.dataframe[-1].value
    assert {"delta_a", "delta_b"} <= set(compared.columns) and len(compared)  # the healthy pair still compares
    app.selectbox(key="runs_pick").set_value(good.run_id).run()
    app.button(key="runs_reopen").click().run()
    no_errors(app)
    assert app.session_state["experiment"].config == result.config
    app.switch_page("pages/3_Compare.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(app.dataframe[0].value)  # the saved results are shown without re-running
    assert not any("other settings" in w.value for w in app.warning)  # the form shows the run's own settings
    app.switch_page("pages/5_What_if.py").run()
    no_errors(app)
    shown = " ".join(i.value for i in app.info)  # says why New user waits, and what makes it ready
    assert "reopened from a saved run, which keeps its results but not its trained models" in shown


def test_browser_refresh_restores_data_and_run(app: AppTest, monkeypatch) -> None:
    dataset, result = small_experiment()
    run = save_run(result, root=Path(os.environ["RECAUG_RUNS_DIR"]), dataset=dataset)
    fresh = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    fresh.query_params["run"] = run.run_id
    fresh.run()
    no_errors(fresh)
    assert fresh.session_state["experiment"].fingerprint == dataset.fingerprint()
    assert _metrics(fresh)["Users"] == "943"


def test_browser_refresh_keeps_the_upload_and_the_augmentation(app: AppTest) -> None:
    app.radio(key="data_source").set_value("Upload my data").run()
    _upload(app, "upload_interactions", "ratings.dat", DAT.encode())
    app.button(key="load_upload").click().run()
    app.switch_page("pages/1_Augment.py").run()
    app.multiselect(key="aug_methods").set_value(["random"]).run()
    app.button(key="run_augment").click().run()
    no_errors(app)
    assert app.session_state["augment_results"]
    app.run()  # AppTest runs a switched-to page without app.py's closing URL sync; the browser has it (checked)
    fresh = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    for key, value in app.query_params.items():
        fresh.query_params[key] = value
    fresh.run()
    no_errors(fresh)
    assert fresh.session_state["dataset"].name == "ratings.dat" and _metrics(fresh)["Users"] == "12"
    assert fresh.session_state["augment_config"]["augmenters"] == ["random"]
    assert set(fresh.session_state["augment_results"]) == {"random"}


def test_runs_page_labels_a_run(app: AppTest) -> None:
    _, result = small_experiment()
    run = save_run(result, root=Path(os.environ["RECAUG_RUNS_DIR"]))
    app.switch_page("pages/6_Runs.py").run()
    app.text_input(key=f"runs_label_{run.run_id}").set_value("tuned BPR").run()
    app.button(key="runs_label_save").click().run()
    no_errors(app)
    assert list_runs()["label"].tolist() == ["tuned BPR"]


def test_a_run_saved_without_its_data_reopens_on_matching_built_in_data(app: AppTest) -> None:
    _, result = small_experiment()
    run = save_run(result, root=Path(os.environ["RECAUG_RUNS_DIR"]))  # no dataset: nothing in the data store
    app.switch_page("pages/6_Runs.py").run()
    app.button(key="runs_reopen").click().run()
    no_errors(app)
    assert app.session_state["experiment"].fingerprint == run.fingerprint
