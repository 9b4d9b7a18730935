"""Layout nits from issue #12's screenshots: parameter help, the full-width members box, the What-if card and label."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from tests.app.conftest import no_errors


def test_every_method_parameter_has_help_and_members_are_full_width(app: AppTest) -> None:
    app.switch_page("pages/1_Augment.py").run()
    app.multiselect(key="aug_methods").set_value(["ensemble", "cfgan"]).run()
    no_errors(app)
    widgets = [
        w for kind in ("number_input", "selectbox", "multiselect", "checkbox", "text_input") for w in app.get(kind)
    ]
    params = [w for w in widgets if str(w.key or "").startswith("aug_param:")]
    assert len(params) >= 10
    missing = [w.key for w in params if not (w.help or "").strip() or "Default:" not in w.help]
    assert not missing, missing
    members = app.multiselect(key="aug_param:ensemble:members")
    assert "augmenters whose proposals are combined" in members.help
    in_columns = [c for c in app.columns if any(w.key == members.key for w in c.multiselect)]
    assert not in_columns  # in a third of the page its chips were cut off


def test_whatif_names_the_closest_item_and_labels_the_new_item_above_points(app: AppTest) -> None:
    app.switch_page("pages/5_What_if.py").run()
    app.text_input(key="whatif_title").set_value("Galaxy Rebels (1998)").run()
    app.text_input(key="whatif_field_genres").set_value("Action|Adventure|Sci-Fi").run()
    app.button(key="whatif_item_run").click().run()
    no_errors(app)
    card = next(m.value for m in app.markdown if m.value.startswith("Closest catalog item"))
    assert "(19" in card.replace("\\", "")  # a title such as "Star Wars (1977)", written out whole (walk 11)
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert any("Galaxy Rebels" in a["text"] for a in figure["layout"]["annotations"])
