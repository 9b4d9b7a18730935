"""Walk 13 (D), What-if: a catalog with its own description column gets one description input, named as the catalog
names it, and the new item's text is written in the catalog's order; New user carries the comparison's "barely
trained" note for the models it asks."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from recaug.analysis.whatif import DESCRIPTION, new_item_form, undertrained_notes
from recaug.data.builtin import load_ml100k
from recaug.data.dataset import Dataset
from recaug.experiment import ExperimentConfig, ExperimentResult, run_experiment
from recaug.experiment.executor import SerialExecutor
from recaug.experiment.result import chosen_rows, chosen_table
from tests.app.conftest import app, no_errors  # noqa: F401  (the fixture is used by name)
from ui.state import DATASET, EXPERIMENT

# The walk's catalogue: sku, product_name (the title), description (prose), category.
CATALOGUE = pd.DataFrame(
    {
        "item_id": ["SKU-1", "SKU-2", "SKU-3"],
        "title": ["Toy Story (1995)", "GoldenEye (1995)", "Four Rooms (1995)"],
        "text": ["t1", "t2", "t3"],
        "description": ["A animation title.", "", "A thriller title."],
        "category": ["Animation", "Action", "Thriller"],
    }
)


def test_the_catalogs_description_column_is_the_description_field() -> None:
    form = new_item_form(CATALOGUE, example_row=1)  # GoldenEye has no description: the first that has one shows
    assert (form.title, form.description, form.fields) == ("title", "description", ["category"])
    assert form.in_catalog("description") and not form.in_catalog("title")
    assert form.examples == {"description": "A animation title.", "category": "Action"}
    plain = new_item_form(CATALOGUE.drop(columns="description"))
    assert (plain.description, plain.fields, plain.in_catalog(DESCRIPTION)) == (DESCRIPTION, ["category"], False)
    named = new_item_form(CATALOGUE.assign(name=["Toy", "Gold", "Four"], summary="x"))
    assert (named.title, named.description, named.fields) == ("name", "description", ["category", "summary"])


def _catalog_with_overview() -> Dataset:
    """ML-100k with a prose ``overview`` and a ``category`` column (its texts unchanged, so their embeddings are
    already in the disk cache)."""
    interactions, items = load_ml100k()
    items = items.assign(overview="A film from the catalogue.", category="Film")
    return Dataset.from_frames(interactions, items, name="ml-100k-overview")


def _inputs(page: AppTest) -> dict[str, str]:
    return {box.key: box.label for box in [*page.text_input, *page.text_area]}


def test_new_item_asks_for_the_catalogs_overview_once_and_writes_it_in_its_place(app: AppTest) -> None:  # noqa: F811
    app.session_state[DATASET] = _catalog_with_overview()
    app.switch_page("pages/5_What_if.py").run()
    no_errors(app)
    labels = _inputs(app)
    # Walk 13: a "Description" text area next to a second "Overview"/"Description" box built from the column.
    assert labels["whatif_text"] == "Overview" and "Description" not in labels.values()
    assert list(labels.values()).count("Overview") == 1 and "whatif_field_overview" not in labels
    assert labels["whatif_field_genres"] == "Genres" and labels["whatif_field_category"] == "Category"
    app.text_input(key="whatif_title").input("Space Rescue (1997)").run()
    app.text_area(key="whatif_text").input("A crew races to save a stranded space station.").run()
    app.text_input(key="whatif_field_genres").input("Action, Sci-Fi").run()
    app.text_input(key="whatif_field_category").input("Film").run()
    app.button(key="whatif_item_run").click().run()
    no_errors(app)
    placed = next(c.value for c in app.caption if c.value.startswith("Placed as:")).replace("\\", "")
    # The catalog's order (genres, overview, category), the overview unlabelled as the catalog writes it.
    assert placed == (
        "Placed as: Space Rescue (1997). Genres: Action, Sci-Fi. A crew races to save a stranded space station. "
        "Category: Film."
    )


def _bpr_fits(epochs: dict[tuple[str, int], tuple[int, int]]) -> pd.DataFrame:
    """A chosen table of BPR fits: (arm, seed) -> (epoch kept, epochs run), as a run records them."""
    rows = [
        row
        for (arm, seed), (epoch, ran) in epochs.items()
        for row in chosen_rows(("bpr", arm, seed), {"epoch": epoch, "epochs_run": ran, "valid_ndcg@10": 0.02})
    ]
    return chosen_table(rows)


EARLY, TRAINED = (2, 14), (60, 72)  # early stopping ended it 12 epochs after epoch 2; a fit that trained


def test_the_note_counts_only_the_fits_the_whatif_uses() -> None:
    used = [("bpr", "baseline", 0), ("bpr", "random", 0), ("pop", "baseline", 0)]
    seed0_early = _bpr_fits({("baseline", 0): EARLY, ("random", 0): EARLY, ("baseline", 1): TRAINED})
    (note,) = undertrained_notes(seed0_early, used)
    both = "bpr: validation kept a barely trained model for bpr · baseline (epoch 2 of 14 run), bpr · random"
    assert note.startswith(both) and "these lists say little" in note
    seed1_early = _bpr_fits({("baseline", 0): TRAINED, ("random", 0): TRAINED, ("baseline", 1): EARLY})
    assert undertrained_notes(seed1_early, used) == []
    # One column of two (walk 13: no majority, so no word): each column is one fit and gets its own say.
    one = _bpr_fits({("baseline", 0): EARLY, ("random", 0): TRAINED})
    (note,) = undertrained_notes(one, used)
    assert "for bpr · baseline (epoch 2 of 14 run): this list says little" in note and "bpr · random" not in note
    assert undertrained_notes(chosen_table([]), used) == []


@pytest.fixture(scope="module")
def pop_bpr() -> ExperimentResult:
    """One seed of pop and a 3-epoch bpr, baseline and random (seconds)."""
    interactions, items = load_ml100k()
    config = ExperimentConfig(
        models=["pop", "bpr"],
        model_params={"bpr": {"max_epochs": 3}},
        augmenters=["random"],
        seeds=[0],
        budget=0.05,
        target="all",
    )
    dataset = Dataset.from_frames(interactions, items, name="ml-100k")
    return run_experiment(dataset, config, keep_models=True, executor=SerialExecutor())


def _new_user_warnings(page: AppTest, result: ExperimentResult) -> list[str]:
    page.session_state[EXPERIMENT] = result
    page.switch_page("pages/5_What_if.py").run()
    page.multiselect(key="whatif_liked").set_value(["50", "181"]).run()
    no_errors(page)
    assert len(page.dataframe[-1].value.columns) == 4  # pop, bpr x baseline, random answered
    return [box.value.replace("\\", "").replace("\u2060", "") for box in page.warning]  # markdown escapes out


def test_new_user_shows_the_comparisons_barely_trained_note(app: AppTest, pop_bpr: ExperimentResult) -> None:  # noqa: F811
    early = replace(pop_bpr, chosen=_bpr_fits({("baseline", 0): EARLY, ("random", 0): EARLY}))
    notes = _new_user_warnings(app, early)
    assert [n for n in notes if "barely trained" in n] == [
        n for n in undertrained_notes(early.chosen, early.models) if "barely trained" in n
    ]
    assert len(notes) == 1 and notes[0].startswith("bpr: validation kept a barely trained model for bpr · baseline")
    trained = replace(pop_bpr, chosen=_bpr_fits({("baseline", 0): TRAINED, ("random", 0): TRAINED}))
    assert not [n for n in _new_user_warnings(app, trained) if "barely trained" in n]


def test_a_catalog_item_nobody_interacted_with_fills_the_new_item_form(app: AppTest) -> None:  # noqa: F811
    """The cold-start question itself: an item the items file lists but no interaction names (left out at load)
    is one pick away, its text in the form's boxes."""
    interactions, items = load_ml100k()
    items = items.assign(overview="A film from the catalogue.", category="Film")
    unbought = pd.DataFrame(
        {
            "item_id": ["9001", "9002"],
            "title": ["Moonlight Harbor (2024)", "Quiet Valley (2024)"],
            "genres": ["Romance", "Drama"],
            "overview": ["Two sailors in a fishing town.", "A valley that keeps its secrets."],
            "category": ["Film", "Film"],
        }
    )
    dataset = Dataset.from_frames(interactions, pd.concat([items, unbought], ignore_index=True), name="ml-100k-cold")
    assert dataset.unused_items is not None and len(dataset.unused_items) == 2
    app.session_state[DATASET] = dataset
    app.switch_page("pages/5_What_if.py").run()
    no_errors(app)
    picker = app.selectbox(key="whatif_unused")
    assert picker.options[1:] == ["Moonlight Harbor (2024)", "Quiet Valley (2024)"]
    picker.set_value("Moonlight Harbor (2024)").run()
    no_errors(app)
    assert app.text_input(key="whatif_title").value == "Moonlight Harbor (2024)"
    assert app.text_area(key="whatif_text").value == "Two sailors in a fishing town."
    assert app.text_input(key="whatif_field_genres").value == "Romance"
