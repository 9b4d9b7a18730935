"""Work that survives (issue #19): a browser refresh and a reopened run bring back the augmentation, on every page
that reads it, with the settings it was made with (caps included), even when the server's memory has lost it."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from recaug.data.builtin import load_ml100k
from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.reporting.runs import save_run
from tests.app.conftest import REPO, no_errors
from tests.servers.llm_fixtures import llm_home  # noqa: F401  (fixture)
from ui.cached import result_store


def _refreshed(app: AppTest) -> AppTest:
    """What a browser refresh gives: a new session with only the URL, on a server whose memory was cleared."""
    app.run()  # AppTest runs a switched-to page without app.py's closing URL sync; the browser has it
    result_store.clear()  # the restore must come from disk, not from this process's cache
    fresh = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    for key, value in app.query_params.items():
        fresh.query_params[key] = value
    return fresh.run()


def _embedding_counts(app: AppTest) -> pd.Series:
    """The Embeddings page's points per (kind, origin), on PCA."""
    app.switch_page("pages/2_Embeddings.py").run()
    no_errors(app)
    app.radio(key="emb_method").set_value("pca").run()
    return app.dataframe[-1].value.set_index(["kind", "origin"])["points"]


def _pages_show_the_augmentation(
    app: AppTest, method: str, rows: pd.DataFrame, counts_before: pd.Series | None = None
) -> None:
    """Augment, Fidelity, Embeddings and What-if all read the restored rows (none asks to run Augment first)."""
    app.switch_page("pages/1_Augment.py").run()
    no_errors(app)
    restored = app.session_state["augment_results"][method].rows
    pd.testing.assert_frame_equal(restored[["user_id", "item_id"]], rows[["user_id", "item_id"]], check_dtype=False)
    assert f"{len(rows):,}" == next(m.value for m in app.metric if m.label == "Synthetic rows")
    assert not any("settings changed" in w.value for w in app.warning), [w.value for w in app.warning]
    app.switch_page("pages/4_Fidelity.py").run()
    no_errors(app)
    assert method in app.dataframe[0].value.columns
    counts = _embedding_counts(app)
    if counts_before is None:
        assert counts[("user", "synthetic")] == rows["user_id"].nunique()
    else:
        pd.testing.assert_series_equal(counts, counts_before)  # the same map as before the refresh
    app.switch_page("pages/5_What_if.py").run()
    no_errors(app)


def test_refresh_restores_an_llm_augmentation_and_its_call_cap(
    llm_home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("RECAUG_NO_WARMUP", "1")
    monkeypatch.setenv("RECAUG_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.chdir(REPO)
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
    app.switch_page("pages/1_Augment.py").run()
    app.multiselect(key="aug_methods").set_value(["random", "llm-interactions"]).run()
    app.number_input(key="llm_max_calls").set_value(6).run()  # not the default (2000): it must come back
    app.checkbox(key="llm_skill_check").uncheck().run()  # not the default either (and it costs ~130 calls)
    app.number_input(key="aug_max_per_user").set_value(4).run()
    app.button(key="run_augment").click().run()
    no_errors(app)
    made = app.session_state["augment_results"]["llm-interactions"]
    assert 0 < made.info["calls"] <= 6
    app.run()  # AppTest runs a switched-to page without app.py's closing URL sync; the browser has it
    assert "aug" in app.query_params and "llm" not in app.query_params["aug"]  # a digest, never the settings

    counts_before = _embedding_counts(app)
    fresh = _refreshed(app)
    no_errors(fresh)
    fresh.switch_page("pages/1_Augment.py").run()
    assert fresh.number_input(key="llm_max_calls").value == 6
    assert fresh.checkbox(key="llm_skill_check").value is False
    assert fresh.number_input(key="aug_max_per_user").value == 4
    assert fresh.session_state["augment_config"] == app.session_state["augment_run_config"]
    restored = fresh.session_state["augment_results"]["llm-interactions"]
    assert restored.info == made.info and len(restored.log) == len(made.log) > 0
    assert len(restored.rows) == len(made.rows)
    _pages_show_the_augmentation(fresh, "random", app.session_state["augment_results"]["random"].rows, counts_before)


@pytest.fixture(scope="module")
def capped_run_experiment() -> tuple[Dataset, object]:
    interactions, items = load_ml100k()
    dataset = Dataset.from_frames(interactions, items, name="ml-100k")
    config = ExperimentConfig(
        data="ml-100k",
        augmenters=["random"],
        augmenter_params={"random": {"max_per_user": 2}},
        models=["pop"],
        seeds=[3, 4],
        budget=0.02,
        target="all",
    )
    return dataset, run_experiment(dataset, config)


def test_reopened_run_brings_back_its_augmentation_and_settings(app: AppTest, capped_run_experiment) -> None:
    dataset, result = capped_run_experiment
    run = save_run(result, root=Path(os.environ["RECAUG_RUNS_DIR"]), dataset=dataset)
    seed3 = run.synthetic[run.synthetic["seed"] == 3].reset_index(drop=True)
    app.switch_page("pages/6_Runs.py").run()
    app.button(key="runs_reopen").click().run()
    no_errors(app)
    _pages_show_the_augmentation(app, "random", seed3)
    app.switch_page("pages/1_Augment.py").run()
    assert app.number_input(key="aug_max_per_user").value == 2
    assert app.number_input(key="aug_seed").value == 3 and app.slider(key="aug_budget_pct").value == 2
    assert app.session_state["augment_results"]["random"].rows.groupby("user_id").size().max() <= 2

    fresh = _refreshed(app)  # a refresh after reopening: the URL names the run
    no_errors(fresh)
    assert fresh.query_params["run"] == run.run_id
    _pages_show_the_augmentation(fresh, "random", seed3)


def test_a_reopened_budget_sweep_opens_compare_with_its_budgets(app: AppTest) -> None:
    """The sweep came back as fractions ('0.02'), no option of the form: Compare crashed on every visit."""
    dataset = Dataset.from_frames(*load_ml100k(), name="ml-100k")
    swept = ["random@2%", "random@5%", "random@3000"]  # shares and a row count, one share not among the usual ones
    config = ExperimentConfig(augmenters=swept, models=["pop"], seeds=[0, 1, 2], aa_control=False)
    save_run(run_experiment(dataset, config), root=Path(os.environ["RECAUG_RUNS_DIR"]), dataset=dataset)
    app.switch_page("pages/6_Runs.py").run()
    app.button(key="runs_reopen").click().run()
    app.switch_page("pages/3_Compare.py").run()
    no_errors(app)
    assert app.multiselect(key="cmp_sweep").value == ["2%", "5%", "3000"]
    app.switch_page("pages/1_Augment.py").run()
    app.switch_page("pages/3_Compare.py").run()  # and again, as the walk did
    no_errors(app)


def test_a_reopened_run_brings_back_its_question_and_seed_plan(app: AppTest) -> None:
    """Walk 12: a reopened seeds-until-decided run lost its limit (and --primary, A/A): the page called the run's
    own results stale, and Run comparison would have run another design."""
    dataset = Dataset.from_frames(*load_ml100k(), name="ml-100k")
    config = ExperimentConfig(
        augmenters=["random"], models=["pop"], seeds=[0, 1, 2], primary=["ndcg@10"], max_seeds=5, aa_control=True
    )
    save_run(run_experiment(dataset, config), root=Path(os.environ["RECAUG_RUNS_DIR"]), dataset=dataset)
    app.switch_page("pages/6_Runs.py").run()
    app.button(key="runs_reopen").click().run()
    app.switch_page("pages/3_Compare.py").run()
    no_errors(app)
    assert app.multiselect(key="cmp_primary").value == ["ndcg@10"]
    assert app.number_input(key="cmp_max_seeds").value == 5 and app.checkbox(key="cmp_aa_control").value
    assert not [w.value for w in app.warning if "other settings" in str(w.value)]
