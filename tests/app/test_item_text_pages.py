"""The Augment and Compare pages warn when a text method is chosen for data whose items have no text."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import no_errors
from tests.augment.test_item_text import shop


@pytest.mark.parametrize("page", ["pages/1_Augment.py", "pages/3_Compare.py"])
def test_the_augment_and_compare_pages_warn(app: AppTest, page: str) -> None:
    app.session_state["dataset"] = shop()
    app.switch_page(page).run()
    no_errors(app)
    warnings_shown = " ".join(w.value for w in app.warning)
    assert "similarity reads item text, and 'shop.csv' has none" in warnings_shown


def test_what_if_does_not_place_a_new_item_by_id_spelling(app: AppTest) -> None:
    """Without item text the New item tab says why it cannot help (and indexes nothing); New user stays."""
    app.session_state["dataset"] = shop()
    app.switch_page("pages/5_What_if.py").run()
    no_errors(app)
    shown = " ".join(i.value for i in app.info)
    assert "A new item is placed by its text, and 'shop.csv' has no item text" in shown
    assert not [box for box in app.text_input if box.key == "whatif_title"]  # no form to fill in
    assert "Run a comparison on the Compare page first" in shown  # the New user tab is still there
