"""A setting changed on Augment and a sidebar click at once (found by a user walk: the protocol was lost in 3 of 5
quick tries). The click cuts the Augment page's rerun short, so a setting is kept by the change's callback."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.conftest import no_errors


def test_a_protocol_and_methods_picked_just_before_leaving_augment_reach_compare(app: AppTest) -> None:
    app.switch_page("pages/1_Augment.py").run()
    no_errors(app)
    app.selectbox(key="aug_protocol").set_value("temporal")
    app.multiselect(key="aug_methods").set_value(["popularity"])
    app.switch_page("pages/3_Compare.py").run()  # the changes arrive with the Compare page's run, not Augment's
    no_errors(app)
    assert app.session_state["augment_config"]["protocol"] == "temporal"
    assert app.session_state["augment_config"]["augmenters"] == ["popularity"]
    assert app.selectbox(key="cmp_protocol_shown").value == "temporal"
    app.switch_page("pages/1_Augment.py").run()
    assert app.selectbox(key="aug_protocol").value == "temporal"  # and the Augment page shows it on return
