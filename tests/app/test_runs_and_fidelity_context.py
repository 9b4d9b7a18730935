"""The Runs page warns when two runs are not like for like and shows no "None"; the Fidelity page names the
augmentation it measures (data, split, seed, methods, where it came from) and says when it is not the one last
asked for (settings changed on Augment, a comparison with another augmentation ran since)."""

from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from recaug.reporting.runs import MISSING, list_runs, save_run
from tests.app.conftest import no_errors
from tests.runs_fixtures import small_experiment
from tests.test_runs_compare_context import cold_items_experiment


def test_runs_page_warns_of_another_protocol_and_shows_dashes_not_none(app: AppTest) -> None:
    dataset, result = small_experiment()
    root = Path(os.environ["RECAUG_RUNS_DIR"])
    random_811 = save_run(result, root=root, dataset=dataset)
    cold_items = save_run(cold_items_experiment(), root=root, dataset=dataset)
    app.switch_page("pages/6_Runs.py").run()
    no_errors(app)
    app.selectbox(key="runs_a").set_value(random_811.run_id).run()  # saved within a second: ids need not sort by age
    app.selectbox(key="runs_b").set_value(cold_items.run_id).run()
    warnings = [w.value for w in app.warning]
    assert any("not like for like" in w and "split protocol: A random-811 vs B cold-items" in w for w in warnings)
    compared = app.dataframe[-1].value
    assert {"n_seeds_a", "verdict_b"} <= set(compared.columns)
    cells = set(compared.astype(str).to_numpy().ravel())
    assert not cells & {"None", "nan", "NaN", "<NA>", "2.0"}
    assert set(compared["n_seeds_a"]) <= {"2", MISSING} and MISSING in set(compared["n_seeds_a"])


def _captions(app: AppTest) -> list[str]:
    return [c.value for c in app.caption]


def test_fidelity_names_its_augmentation_and_warns_when_it_is_not_the_latest(app: AppTest) -> None:
    app.switch_page("pages/1_Augment.py").run()
    app.multiselect(key="aug_methods").set_value(["random", "popularity"]).run()
    app.button(key="run_augment").click().run()
    no_errors(app)
    app.switch_page("pages/4_Fidelity.py").run()
    no_errors(app)
    caption = next(c for c in _captions(app) if c.startswith("This report is about"))
    assert "data **ml-100k**" in caption and "split **random-811**" in caption and "seed **0**" in caption
    assert "methods **random, popularity**" in caption and "from the Augment page's last run" in caption
    assert not app.warning, [w.value for w in app.warning]

    # The user's path: other settings on Augment (not run there), then a comparison with them.
    app.switch_page("pages/1_Augment.py").run()
    app.selectbox(key="aug_protocol").set_value("cold-items").run()
    app.multiselect(key="aug_methods").set_value(["popularity"]).run()
    app.switch_page("pages/3_Compare.py").run()
    app.multiselect(key="cmp_models").set_value(["pop"]).run()
    app.button(key="run_compare").click().run()
    no_errors(app)
    run_id = list_runs()["run_id"].iloc[0]
    app.switch_page("pages/4_Fidelity.py").run()
    no_errors(app)
    assert any("split **random-811**" in c and "methods **random, popularity**" in c for c in _captions(app))
    warnings = [w.value for w in app.warning]
    assert any("settings on the Augment page changed" in w and "cold-items" in w for w in warnings), warnings
    assert any(f"latest comparison (run `{run_id}`: split cold-items, methods popularity" in w for w in warnings)

    # Reopening that run brings its augmentation: the report now names the run, and nothing is stale.
    app.switch_page("pages/6_Runs.py").run()
    app.selectbox(key="runs_pick").set_value(run_id).run()
    app.button(key="runs_reopen").click().run()
    no_errors(app)
    app.switch_page("pages/4_Fidelity.py").run()
    no_errors(app)
    caption = next(c for c in _captions(app) if c.startswith("This report is about"))
    assert "split **cold-items**" in caption and "methods **popularity**" in caption
    assert f"from saved run `{run_id}`" in caption
    assert not app.warning, [w.value for w in app.warning]
