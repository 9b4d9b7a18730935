"""Embeddings page above the point limit: a seeded sample is drawn and the caption says so (limit lowered)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from recaug.analysis import projection
from tests.app.conftest import no_errors


def test_large_maps_draw_a_seeded_sample_and_say_so(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(projection, "MAX_POINTS", 1000)  # ML-100k has 2,625 real points
    app.switch_page("pages/2_Embeddings.py").run()
    app.radio(key="emb_method").set_value("pca").run()
    no_errors(app)
    captions = " ".join(c.value for c in app.caption)
    assert "A seeded sample of 1,000 of all 2,625 points (above 1,000 points the map shows a sample" in captions
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    drawn = sum(len(trace["customdata"]) for trace in figure["data"])
    assert drawn == 1000
    counts = app.dataframe[-1].value.set_index(["kind", "origin"])["points"]
    assert counts[("item", "real")] == 1682  # the table still counts every point
    app.radio(key="emb_points").set_value("users").run()
    captions = " ".join(c.value for c in app.caption)
    users = sum(len(trace["customdata"]) for trace in json.loads(app.get("plotly_chart")[0].proto.spec)["data"])
    assert 0 < users < 1000 and f"{users:,} users in a seeded sample of 1,000 of all 2,625 points" in captions
