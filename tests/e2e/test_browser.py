"""Real browser against ``streamlit run``: the whole MovieLens-100k loop, and a bad upload that must not break it.

Each page is saved as a full-page screenshot under ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.driver import (
    COMPUTE_TIMEOUT_MS,
    chart,
    choose,
    error_alerts,
    exceptions,
    full_page_screenshot,
    go_to,
    grid_rows,
    metric_value,
    plotted_points,
    run_augmentation,
    run_comparison,
    traces,
    wait_until_idle,
)
from tests.e2e.server import AppServer

ML100K_USERS = "943"
MOVIE_TITLE = re.compile(r"^.+ \(\d{4}\)$")  # MovieLens titles end with the year: "Toy Story (1995)"
COMPARE_MODELS = {"pop", "itemknn", "bpr"}
POINTS_CAPTION = re.compile(r"([\d,]+) points · ")


def _assert_clean(page: Page, server: AppServer) -> None:
    assert exceptions(page) == []
    assert error_alerts(page) == []
    assert server.failures() == [], f"the server logged app errors; see {server.log_path}"


def _count(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.mark.e2e
def test_home_augment_embeddings_compare(app_page: Page, app_server: AppServer, artifacts: Path) -> None:
    page = app_page
    expect(metric_value(page, "Users")).to_have_text(ML100K_USERS)
    expect(metric_value(page, "Items")).to_have_text("1,682")
    expect(metric_value(page, "Interactions")).to_have_text("100,000")
    histograms = chart(page, "home_degree_chart")
    expect(histograms).to_be_visible()
    assert plotted_points(histograms) > 0
    _assert_clean(page, app_server)
    full_page_screenshot(page, artifacts / "home.png")

    # Augment with the defaults: similarity, +10% of training interactions, light users.
    go_to(page, "Augment")
    run_augmentation(page)
    _assert_clean(page, app_server)
    expect(metric_value(page, "Share of training data")).to_have_text("10.0%")  # the budget is filled
    touched = _count(metric_value(page, "Real users given rows").inner_text())
    assert 0 < touched < 943 / 2  # light users only: the bottom quarter by activity
    preview = grid_rows(page.get_by_test_id("stTabPanel").get_by_test_id("stDataFrame"))
    assert len(preview) >= 5
    for _user, _item, title, origin, confidence, *_ in preview:
        assert MOVIE_TITLE.match(title) and origin == "similarity" and 0 < float(confidence) <= 1
    full_page_screenshot(page, artifacts / "augment.png")

    # Embeddings: the scatter plots every point its caption announces, real and synthetic as separate colours.
    go_to(page, "Embeddings")
    scatter = chart(page, "emb_chart")
    expect(scatter).to_be_visible()
    _assert_clean(page, app_server)
    caption = page.get_by_text(POINTS_CAPTION)
    expect(caption).to_be_visible()
    announced = _count(POINTS_CAPTION.search(caption.inner_text()).group(1))
    assert announced > 943 and plotted_points(scatter) == announced
    groups = [trace["name"] for trace in traces(scatter) if trace["n"] > 0]
    assert {"item", "user", "user + synthetic"} <= set(groups), groups  # real vs synthetic users drawn apart
    full_page_screenshot(page, artifacts / "embeddings.png")

    # Compare: baseline vs augmented for pop, itemknn and bpr on the same test split.
    go_to(page, "Compare")
    run_comparison(page)
    _assert_clean(page, app_server)
    rows = grid_rows(page.get_by_test_id("stDataFrame").first)  # the before/after table: model, variant, metric, k…
    assert rows and all(row[0] in COMPARE_MODELS and row[1] == "similarity" for row in rows), rows[:3]
    choose(page, "Chart metric", "ndcg")
    choose(page, "k", "10")
    bars = chart(page, "compare_chart")
    expect(bars.locator(".g-ytitle")).to_have_text("Δ ndcg@10 vs baseline")
    (delta_bars,) = traces(bars)  # one Δ bar per model; the A/A noise floor is a band behind them, not a bar
    assert delta_bars["name"] == "similarity" and set(delta_bars["x"][0]) == COMPARE_MODELS  # x: model, then arm
    assert all(-1 < value < 1 for value in delta_bars["y"]) and any(value != 0 for value in delta_bars["y"])
    assert plotted_points(bars) == len(COMPARE_MODELS)
    ndcg10 = {row[0]: row for row in rows if row[2] == "ndcg@10"}
    if "bpr" in ndcg10:  # the grid virtualises: rows below the fold may not be rendered
        assert 0.25 <= float(ndcg10["bpr"][3]) <= 0.31  # RecBole's BPR on this split: NDCG@10 about 0.28
    full_page_screenshot(page, artifacts / "compare.png")

    # The standalone HTML report: a real download, self-contained (plotly inline), stating protocol and seed.
    with page.expect_download(timeout=COMPUTE_TIMEOUT_MS) as pending:
        page.get_by_role("button", name="HTML report").click()
    report = pending.value.path().read_text(encoding="utf-8")
    (artifacts / "report.html").write_text(report, encoding="utf-8")
    assert report.lstrip().lower().startswith("<!doctype html") or "<html" in report[:500].lower()
    assert "random-811" in report and "similarity" in report
    assert not re.search(r"<script[^>]+src=[\"']https?://", report), "the report must not load scripts from the web"
    assert "Plotly.newPlot" in report and len(report) > 1_000_000  # plotly.js is inline: works offline

    # What-if: a new item's text -> nearest catalog items, and who gets it before / after expansion.
    go_to(page, "What-if")
    page.get_by_role("textbox", name="Title", exact=True).fill("Space Rescue (1997)")
    page.get_by_role("textbox", name="Title", exact=True).press("Tab")
    page.get_by_role("textbox", name="Description", exact=True).fill(
        "Space Rescue (1997). Genres: Action, Adventure, Sci-Fi."
    )
    page.get_by_role("textbox", name="Description", exact=True).press("Tab")
    wait_until_idle(page)
    page.get_by_role("button", name="Place the item").click()
    before = metric_value(page, "Users with it in top-K (before)")
    expect(before).to_be_visible(timeout=COMPUTE_TIMEOUT_MS)
    wait_until_idle(page, COMPUTE_TIMEOUT_MS)
    _assert_clean(page, app_server)
    assert _count(before.inner_text()) > 0
    neighbours = grid_rows(page.get_by_test_id("stDataFrame").first)
    assert neighbours and all(re.search(r"\(\d{4}\)", row[1] if len(row) > 1 else row[0]) for row in neighbours[:3])
    expect(chart(page, "whatif_item_chart")).to_be_visible()
    full_page_screenshot(page, artifacts / "whatif.png")


def _upload(page: Page, name: str, content: bytes) -> None:
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Interactions file")
    uploader.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )


@pytest.mark.e2e
def test_bad_uploads_show_a_clear_error_and_keep_the_dataset(
    app_page: Page, app_server: AppServer, artifacts: Path
) -> None:
    page = app_page
    expect(metric_value(page, "Users")).to_have_text(ML100K_USERS)
    page.get_by_test_id("stRadio").get_by_text("Upload my data").click()

    # Wrong delimiter (spaces): rejected as soon as it is read, naming the file and the fix.
    _upload(page, "ratings_spaces.csv", b"user item rating\n1 10 5\n2 20 4\n")
    alert = page.get_by_test_id("stAlertContentError").filter(has_text="ratings_spaces.csv")
    expect(alert).to_contain_text("file 'ratings_spaces.csv'", ignore_case=True)  # 'File …' after the heading
    expect(alert).to_contain_text("only one column was found")
    expect(alert).to_contain_text("use a comma, tab, semicolon or |")
    expect(metric_value(page, "Users")).to_have_text(ML100K_USERS)
    assert exceptions(page) == []
    full_page_screenshot(page, artifacts / "upload_bad_delimiter.png")

    # Readable, but no id column: rejected when loading, naming the missing column; MovieLens stays loaded.
    _upload(page, "no_ids.csv", b"colour,size,price\nred,3,9.5\nblue,4,2.0\n")
    expect(page.get_by_text("Column mapping")).to_be_visible()
    page.get_by_role("button", name="Load data").click()
    alert = page.get_by_test_id("stAlertContentError").filter(has_text="no_ids.csv")
    expect(alert).to_contain_text("file 'no_ids.csv', column 'user_id': no user_id column found", ignore_case=True)
    wait_until_idle(page)
    assert len(error_alerts(page)) == 1  # the earlier file's message is gone
    expect(metric_value(page, "Users")).to_have_text(ML100K_USERS)
    assert exceptions(page) == []
    assert app_server.failures() == []
    full_page_screenshot(page, artifacts / "upload_no_id_column.png")
