"""Walk 13 on Runs, Compare and Embeddings: a saved run says what validation chose (or that an older run did not
record it) and offers the same download as Compare; the Runs caption words the protocol with its parameters; the
Embeddings caption does not offer a lasso over synthetic rows that are not there."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

from recaug.augment import create_augmenter
from recaug.data.dataset import Dataset
from recaug.data.splits import SplitSpec, protocol_summary
from recaug.experiment import ExperimentResult
from recaug.experiment.result import chosen_notes
from recaug.reporting.runs import save_run
from tests.app.conftest import app, no_errors  # noqa: F401  (the fixture is used by name)
from tests.test_walk13_runs import GRID, NOT_RECORDED, as_older_run, chose, planted_svd  # noqa: F401  (fixtures)

DOWNLOAD = "Chosen on validation (CSV)"


def _store() -> Path:
    return Path(os.environ["RECAUG_RUNS_DIR"])


def _captions(page: AppTest) -> str:
    return " ".join(c.value.replace("\\", "") for c in page.caption)


def _downloads(page: AppTest) -> list[Any]:
    return [element for element in page.get("download_button") if element.proto.label == DOWNLOAD]


def test_runs_page_says_what_validation_chose_and_offers_its_csv(app: AppTest, chose: ExperimentResult) -> None:  # noqa: F811
    values = set(chose.chosen.loc[chose.chosen["setting"] == "reg", "value"])
    assert values and values <= set(GRID)  # EASE chose a point of its grid for both arms
    save_run(chose, root=_store())
    app.switch_page("pages/6_Runs.py").run()
    no_errors(app)
    captions = _captions(app)
    note = chosen_notes(chose.chosen)
    assert note and note[0].startswith("ease: reg chosen on validation — baseline ")
    assert all(line in captions for line in note)
    assert len(_downloads(app)) == 1  # the Compare page's button, for this run
    # The protocol with its parameters: 30% of the items held out, not just "cold-items".
    words = protocol_summary("cold-items", {"fraction": 0.3})
    assert "30% of items held out" in words and f"protocol **cold-items** ({words})" in captions


def test_an_older_run_says_its_choices_were_not_recorded(app: AppTest, chose: ExperimentResult) -> None:  # noqa: F811
    as_older_run(save_run(chose, root=_store()))
    app.switch_page("pages/6_Runs.py").run()
    no_errors(app)
    captions = _captions(app)
    assert NOT_RECORDED in captions
    assert "chosen on validation —" not in captions and not _downloads(app)


def test_embeddings_names_what_is_there_when_no_synthetic_rows_are(app: AppTest, planted_svd: Dataset) -> None:  # noqa: F811
    app.session_state["dataset"] = planted_svd
    app.session_state["augment_config"] = {
        "augmenters": ["edge-dropout"],
        "budget": 0.1,
        "target": "all",
        "seed": 0,
        "protocol": "random-811",
        "augmenter_params": {},
    }
    app.session_state["emb_method"] = "pca"  # no UMAP job in the background
    app.switch_page("pages/2_Embeddings.py").run()
    no_errors(app)
    captions = _captions(app)
    assert "Real data only: there are no synthetic interactions for a lasso to list" in captions
    assert "Drag a lasso" not in captions
    # A method that adds no rows (edge-dropout only removes edges): a lasso would list nothing either.
    split = SplitSpec.of("random-811", {}).build(planted_svd.interactions, 0)
    dropped = create_augmenter("edge-dropout", seed=0).fit(planted_svd.training_data(split.train)).augment(0.1)
    assert len(dropped.rows) == 0 and dropped.removed is not None and len(dropped.removed) > 0
    app.session_state["augment_results"] = {"edge-dropout": dropped}
    app.run()
    no_errors(app)
    captions = _captions(app)
    assert "edge-dropout added no synthetic rows, so every point is real data" in captions
    assert "Drag a lasso" not in captions
    # With synthetic rows the lasso hint is back.
    rows = create_augmenter("random", seed=0).fit(planted_svd.training_data(split.train)).augment(20).rows
    assert len(rows) == 20
    app.session_state["augment_results"] = {"random": type(dropped)(rows=pd.DataFrame(rows))}
    app.run()
    no_errors(app)
    assert "Drag a lasso around points to list their synthetic interactions." in _captions(app)
