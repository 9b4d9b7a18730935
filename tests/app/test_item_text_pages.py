"""The Augment and Compare pages warn when a text method is chosen for data whose items have no text."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import no_errors
from tests.augment.test_item_text import shop


@pytest.mark.parametrize("page", ["pages/1_Augment.py", "pages/3_Compare.py"])
def test_the_augment_and_compare_pages_warn(app: AppTest, page: str) -> None:
    app.session_state["dataset"] = shop()
    app.session_state["augment_config"] = {**_settings(), "augmenters": ["similarity"]}  # chosen by the user
    app.switch_page(page).run()
    no_errors(app)
    warnings_shown = " ".join(w.value for w in app.warning)
    assert "similarity reads item text, and 'shop.csv' has none" in warnings_shown


def _settings() -> dict[str, Any]:
    return {"budget": 0.1, "target": "light-users", "seed": 0, "protocol": "random-811", "augmenter_params": {}}


@pytest.mark.parametrize("page", ["pages/1_Augment.py", "pages/3_Compare.py"])
def test_data_without_item_text_starts_from_a_method_that_learns_from_interactions(app: AppTest, page: str) -> None:
    """The default method must not be one its own page warns about: without item text it is item-kNN expansion."""
    app.session_state["dataset"] = shop()
    app.switch_page(page).run()
    no_errors(app)
    assert app.session_state["augment_config"]["augmenters"] == ["itemknn-expansion"]
    assert not [w for w in app.warning if "reads item text" in w.value]


def _load_next_data() -> None:
    """A script that loads the data named by ``next_data`` the way Home does (``set_dataset``)."""
    import streamlit as st

    from recaug.data.builtin import load_ml100k
    from recaug.data.dataset import Dataset
    from tests.augment.test_item_text import shop
    from ui.state import set_dataset

    wanted = st.session_state.pop("next_data")
    set_dataset(shop() if wanted == "shop" else Dataset.from_frames(*load_ml100k(), name="ml-100k"), None)


def test_new_data_moves_the_default_method_but_keeps_a_chosen_one() -> None:
    """Loading data without text after MovieLens (similarity by default) moves the default along; a method the
    user picked stays (the pages warn about it); notes on stopped runs of the old data are dropped."""
    from recaug.data.builtin import load_ml100k
    from recaug.data.dataset import Dataset

    app = AppTest.from_function(_load_next_data, default_timeout=60)
    app.session_state["dataset"] = Dataset.from_frames(*load_ml100k(), name="ml-100k")
    app.session_state["augment_config"] = {**_settings(), "augmenters": ["similarity"]}  # MovieLens's default
    app.session_state["stop_note:compare"] = "**Stopped after seed 0 by you**"
    app.session_state["next_data"] = "shop"
    app.run()
    no_errors(app)
    assert app.session_state["augment_config"]["augmenters"] == ["itemknn-expansion"]
    assert "stop_note:compare" not in app.session_state
    app.session_state["augment_config"]["augmenters"] = ["popularity"]  # the user's choice
    app.session_state["next_data"] = "ml-100k"
    app.run()
    assert app.session_state["augment_config"]["augmenters"] == ["popularity"]


def test_what_if_does_not_place_a_new_item_by_id_spelling(app: AppTest) -> None:
    """Without item text the New item tab says why it cannot help (and indexes nothing); New user stays."""
    app.session_state["dataset"] = shop()
    app.switch_page("pages/5_What_if.py").run()
    no_errors(app)
    shown = " ".join(i.value for i in app.info)
    assert "A new item is placed by its text, and 'shop.csv' has no item text" in shown
    assert not [box for box in app.text_input if box.key == "whatif_title"]  # no form to fill in
    assert "Run a comparison on the Compare page first" in shown  # the New user tab is still there
