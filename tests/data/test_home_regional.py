"""The Home page's regional setting: an ambiguous day/month file is refused with the choice, then loads."""

from __future__ import annotations

import datetime as dt

from streamlit.testing.v1 import AppTest

from tests.app.conftest import app, no_errors  # noqa: F401  (the fixture is used by name)
from ui.escape import WORD_JOINER

DAYS = [dt.datetime(2024, 12, 1) + dt.timedelta(hours=4 * i) for i in range(60)]
ROWS = "".join(f"u{i % 12};i{i % 25};{d:%d.%m.%Y %H:%M};{1 + i % 5},5\n" for i, d in enumerate(DAYS * 3) if i < 170)


def test_ambiguous_dates_are_refused_until_the_user_chooses_day_first(app: AppTest) -> None:  # noqa: F811
    app.radio(key="data_source").set_value("Upload my data").run()
    app.file_uploader(key="upload_interactions").set_value(
        ("eu.csv", f"user;item;date;rating\n{ROWS}".encode(), "text/csv")
    ).run()
    app.button(key="load_upload").click().run()
    errors = " ".join(e.value for e in app.error)
    assert "can be read day-first" in errors and "the 'Dates' choice under the column mapping" in errors
    assert "--dayfirst" not in errors and app.radio(key="regional_dates").label == "Dates"
    assert any(m.label == "Users" and m.value == "943" for m in app.metric)  # ml-100k stays loaded
    app.radio(key="regional_dates").set_value("Day first (31.12.2024)").run()
    app.button(key="load_upload").click().run()
    no_errors(app)
    assert any(m.label == "Users" and m.value == "12" for m in app.metric)
    assert any("decimal commas read as decimal points" in c.value for c in app.caption)


def test_a_book_crossing_upload_maps_its_headers_and_defaults_the_threshold_to_8(app: AppTest) -> None:  # noqa: F811
    rows = "".join(f'"{276700 + u}";"03454{i:05d}X";"{(u * 3 + i) % 11}"\n' for u in range(12) for i in range(40))
    app.radio(key="data_source").set_value("Upload my data").run()
    data = f'"User-ID";"ISBN";"Book-Rating"\n{rows}'.encode("latin-1")
    app.file_uploader(key="upload_interactions").set_value(("BX-Book-Ratings.csv", data, "text/csv")).run()
    no_errors(app)
    assert app.selectbox(key="map_item_id_BX-Book-Ratings.csv").value == "ISBN"
    assert app.selectbox(key="map_rating_BX-Book-Ratings.csv").value == "Book-Rating"
    assert app.number_input(key="threshold_BX-Book-Ratings.csv_Book-Rating").value == 8.0
    app.checkbox[0].check().run()
    app.button(key="load_upload").click().run()
    no_errors(app)
    assert any("0 means the user did not rate the item" in c.value for c in app.caption)
    kept = sum((u * 3 + i) % 11 >= 8 for u in range(12) for i in range(40))
    assert any(m.label == "Interactions" and m.value == f"{kept:,}" for m in app.metric)


def test_file_and_data_names_are_shown_as_text_on_home(app: AppTest) -> None:  # noqa: F811
    name = "![x](http:__127.0.0.1:9_p.png).csv"
    rows = "".join(f"u{u},i{(u * 7 + k) % 30},{1 + k % 5}\n" for u in range(12) for k in range(12))
    app.radio(key="data_source").set_value("Upload my data").run()
    app.file_uploader(key="upload_interactions").set_value(
        (name, f"user,item,rating\n{rows}".encode(), "text/csv")
    ).run()
    app.text_input(key=f"data_name_{name}").set_value("shop :red[x] ![y](http://127.0.0.1:9/q.png)").run()
    app.button(key="load_upload").click().run()
    no_errors(app)
    shown = " ".join([*(c.value for c in app.caption), *(s.value for s in app.success)])
    assert "http://" not in shown and "http\\://" not in shown  # a word joiner keeps GFM from making links
    shown = shown.replace(WORD_JOINER, "")
    assert "shop \\:red\\[x\\] \\!\\[y\\]\\(http\\://127.0.0.1\\:9/q.png\\)" in shown
    assert "\\!\\[x\\]\\(http\\:\\_\\_127.0.0.1\\:9\\_p.png\\).csv" in shown
    assert "![" not in shown.replace("\\![", "")  # no unescaped image anywhere
