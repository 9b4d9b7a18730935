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
