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


def test_a_target_budget_and_seed_picked_just_before_leaving_augment_reach_compare(app: AppTest) -> None:
    """Walk 13: "Cold items" picked right after the protocol went to cold-items reached Compare as light users."""
    app.switch_page("pages/1_Augment.py").run()
    app.selectbox(key="aug_protocol").set_value("cold-items").run()
    app.selectbox(key="aug_target").set_value("cold-items")
    app.slider(key="aug_budget_pct").set_value(7)
    app.number_input(key="aug_seed").set_value(4)
    app.switch_page("pages/3_Compare.py").run()  # the changes arrive with the Compare page's run, not Augment's
    no_errors(app)
    config = app.session_state["augment_config"]
    assert (config["target"], config["budget"], config["seed"]) == ("cold-items", 0.07, 4)
    app.switch_page("pages/1_Augment.py").run()
    assert app.selectbox(key="aug_target").value == "cold-items"


def test_the_count_budget_starts_at_a_tenth_of_the_data() -> None:
    from ui.augment_view import default_count

    assert default_count(6000) == 600 and default_count(100_000) == 5000 and default_count(4_828) == 400
    assert default_count(12) == 1
