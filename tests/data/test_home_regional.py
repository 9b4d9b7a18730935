"""The Home page's regional setting: an ambiguous day/month file is refused with the choice, then loads."""

from __future__ import annotations

import datetime as dt

from streamlit.testing.v1 import AppTest

from tests.app.conftest import app, no_errors  # noqa: F401  (the fixture is used by name)

DAYS = [dt.datetime(2024, 12, 1) + dt.timedelta(hours=4 * i) for i in range(60)]
ROWS = "".join(f"u{i % 12};i{i % 25};{d:%d.%m.%Y %H:%M};{1 + i % 5},5\n" for i, d in enumerate(DAYS * 3) if i < 170)


def test_ambiguous_dates_are_refused_until_the_user_chooses_day_first(app: AppTest) -> None:  # noqa: F811
    app.radio(key="data_source").set_value("Upload my data").run()
    app.file_uploader(key="upload_interactions").set_value(
        ("eu.csv", f"user;item;date;rating\n{ROWS}".encode(), "text/csv")
    ).run()
    app.button(key="load_upload").click().run()
    errors = " ".join(e.value for e in app.error)
    assert "can be read day-first" in errors and "'Dates' setting on Home" in errors
    assert any(m.label == "Users" and m.value == "943" for m in app.metric)  # ml-100k stays loaded
    app.radio(key="regional_dates").set_value("Day first (31.12.2024)").run()
    app.button(key="load_upload").click().run()
    no_errors(app)
    assert any(m.label == "Users" and m.value == "12" for m in app.metric)
    assert any("decimal commas read as decimal points" in c.value for c in app.caption)
