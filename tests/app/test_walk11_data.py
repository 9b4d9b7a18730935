"""Home's upload as walk 11 found it: counts that agree with the cards, the duplicate rule actually used, fixes that
name the dashboard's controls, an items file matching nothing as a warning, and Excel refused with recaug's hint."""

from __future__ import annotations

import io
import zipfile

from streamlit.testing.v1 import AppTest

from tests.app.conftest import app, no_errors  # noqa: F401  (the fixture is used by name)

GRID = [(f"u{u}", f"i{i}") for u in range(12) for i in range(15)]  # 180 distinct pairs


def _csv(rows: list[tuple[str, str, str]]) -> bytes:
    return ("user,item,rating\n" + "".join(f"{u},{i},{r}\n" for u, i, r in rows)).encode()


def _upload(app: AppTest, name: str, data: bytes) -> None:  # noqa: F811
    app.radio(key="data_source").set_value("Upload my data").run()
    app.file_uploader(key="upload_interactions").set_value((name, data, "text/csv")).run()


def _metric(app: AppTest, label: str) -> str:  # noqa: F811
    return next(m.value for m in app.metric if m.label == label)


def _plain(texts: list[str]) -> str:
    """Shown texts without the Markdown escapes that keep file names from becoming links."""
    return " ".join(texts).replace("\\", "")


def test_loaded_sentence_and_kcore_line_count_the_merged_rows_the_cards_show(app: AppTest) -> None:  # noqa: F811
    """30 repeated rows and a user with one item three times: the k-core sees one row for that user."""
    rows = [(u, i, "3") for u, i in GRID] + [(u, i, "5") for u, i in GRID[:30]] + [("lonely", "i0", "4")] * 3
    _upload(app, "dups.csv", _csv(rows))
    next(n for n in app.number_input if n.label.startswith("k-core")).set_value(2).run()
    app.button(key="load_upload").click().run()
    no_errors(app)
    assert _metric(app, "Interactions") == "180" and _metric(app, "Users") == "12"
    assert [s.value for s in app.success] == ["Loaded dups.csv: 180 interactions (32 repeated user–item rows merged)."]
    captions = _plain([c.value for c in app.caption])
    assert (
        "213 rows in, 0 below the rating threshold, 32 repeated user–item rows merged, 1 removed by the k-core "
        "filter, 180 kept." in captions
    )
    assert "each pair is kept once (its last row in the file, as the file has no timestamp column)" in captions


def test_a_rating_error_names_the_dashboards_decimal_setting_and_counts_rows_in_words(app: AppTest) -> None:  # noqa: F811
    rows = [(u, i, "4") for u, i in GRID]
    rows[40] = (*rows[40][:2], "five")
    _upload(app, "textrating.csv", _csv(rows))
    app.button(key="load_upload").click().run()
    error = " ".join(e.value for e in app.error)
    assert "row 42" in error and "value 'five' is not a number (1 such row)" in error
    label = app.radio(key="regional_decimal").label
    assert f"set '{label}' to 'Comma (4,5)' under the column mapping" in error
    assert "Comma (4,5)" in app.radio(key="regional_decimal").options
    assert "--decimal" not in error and "row(s)" not in error
    assert _metric(app, "Users") == "943"  # MovieLens-100k stays loaded


def test_an_items_file_matching_no_interaction_is_a_warning_not_a_green_load(app: AppTest) -> None:  # noqa: F811
    _upload(app, "shop.csv", _csv([(u, i, "4") for u, i in GRID]))
    items = "item_id,title\n" + "".join(f"X{n},Product {n}\n" for n in range(20))
    app.file_uploader(key="upload_items").set_value(("items_mismatch.csv", items.encode(), "text/csv")).run()
    app.button(key="load_upload").click().run()
    assert not app.success and not app.error and not app.exception
    warnings = [w.value for w in app.warning]
    assert warnings[0].startswith("Loaded shop.csv: 180 interactions.")
    assert "items_mismatch.csv: none of its 20 item ids (e.g. X0, X1, X2) occurs" in _plain(warnings[1:])
    assert not any("none of its" in c.value for c in app.caption)  # not a small grey note any more


def test_an_excel_upload_reaches_recaugs_save_as_csv_message(app: AppTest) -> None:  # noqa: F811
    app.radio(key="data_source").set_value("Upload my data").run()
    assert ".xlsx" in app.file_uploader(key="upload_interactions").proto.type  # not refused by the browser
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
    _upload(app, "ratings.xlsx", buffer.getvalue())
    error = " ".join(e.value for e in app.error)
    assert "Excel/Office document" in error and "Save As" in error and "CSV UTF-8" in error
