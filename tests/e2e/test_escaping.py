"""Real browser (issue #19): user text is shown as text. A data name, item titles and a cell value quoted in an
upload error all hold a markdown image pointing at a tiny server on 127.0.0.1; Chromium must never request it,
on any page or in the downloaded HTML report."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.driver import (
    COMPUTE_TIMEOUT_MS,
    exceptions,
    full_page_screenshot,
    go_to,
    metric_value,
    run_augmentation,
    run_comparison,
    wait_until_idle,
)
from tests.e2e.server import AppServer
from ui.escape import WORD_JOINER


class _Pixel(BaseHTTPRequestHandler):
    """Answers every GET with a 1x1 GIF and records the path: a request means the browser rendered an image."""

    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture()
def pixel_server() -> Iterator[tuple[str, list[str]]]:
    """(image URL base, the paths requested so far) of a server bound to 127.0.0.1, stopped afterwards."""
    requests: list[str] = []
    handler = type("Pixel", (_Pixel,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def _upload(page: Page, label: str, name: str, content: bytes) -> None:
    """Set the file; a file set while the uploader was being re-drawn is lost, so it is set again (3 tries)."""
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=label)
    for attempt in range(3):
        wait_until_idle(page)
        uploader.locator("input[type=file]").set_input_files(
            files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
        )
        try:
            expect(uploader).to_contain_text(name, timeout=15_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    wait_until_idle(page)


def _as_read(shown: str) -> str:
    """What a reader sees: the invisible word joiners that keep URLs from becoming links removed."""
    return shown.replace(WORD_JOINER, "")


@pytest.mark.e2e
def test_user_text_never_renders_as_markdown(
    app_page: Page, app_server: AppServer, artifacts: Path, pixel_server: tuple[str, list[str]]
) -> None:
    base, requests = pixel_server
    page = app_page
    image = f"![x]({base}/pixel.png"

    def assert_no_link_to_user_text(where: str) -> None:
        """GFM turns a bare URL into a link; user text must stay text, clickable nowhere."""
        links = page.locator(f'a[href^="{base}"]')
        assert links.count() == 0, f"{where}: user text became a link: {links.first.get_attribute('href')}"

    page.get_by_test_id("stRadio").get_by_text("Upload my data").click()

    # A cell value quoted in an upload error.
    rows = [f"u{u},i{(3 * u + j) % 20},{1 + (u + j) % 5}" for u in range(30) for j in range(8)]
    bad = "\n".join(["user,item,rating", *rows[:3], f"u0,i9,{image}?cell)", *rows[3:]]).encode()
    _upload(page, "Interactions file", "bad.csv", bad)
    expect(page.get_by_text("Column mapping")).to_be_visible()
    page.get_by_role("button", name="Load data").click()
    alert = page.get_by_test_id("stAlertContentError").filter(has_text="is not a number")
    expect(alert).to_be_visible()
    assert f"{image}?cell)" in _as_read(alert.inner_text())  # the value is quoted, as text
    full_page_screenshot(page, artifacts / "escaping_upload_error.png")
    assert_no_link_to_user_text("upload error")

    # A data name and item titles that are markdown images.
    _upload(page, "Interactions file", "shop.csv", "\n".join(["user,item,rating", *rows]).encode())
    items = "item,title\n" + "".join(f"i{i},{image}?title{i}) Item {i}\n" for i in range(20))
    _upload(page, "Items file", "items.csv", items.encode())
    name_box = page.get_by_role("textbox", name="Name of this data")
    for attempt in range(3):  # typing lands in a box that a re-run still in flight may draw again: type again
        wait_until_idle(page)
        name_box.fill(f"{image}?name) shop")
        name_box.press("Tab")
        wait_until_idle(page)
        try:
            expect(name_box).to_have_value(f"{image}?name) shop", timeout=10_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    page.get_by_role("button", name="Load data").click()
    expect(metric_value(page, "Users")).to_have_text("30", timeout=COMPUTE_TIMEOUT_MS)
    shown_name = re.compile(re.escape(f"{image}?name) shop").replace("http", f"http{WORD_JOINER}?"))
    expect(page.get_by_test_id("stCaptionContainer").filter(has_text=shown_name).first).to_be_visible()
    # Every user has 8 interactions: the histogram's category axis must reach the "8–15" bin (a guessed linear
    # axis keeps only the numeric-looking "0" and "1" and draws no bar).
    expect(page.locator(".xtick text").filter(has_text="8–15").first).to_be_attached()
    full_page_screenshot(page, artifacts / "escaping_home.png")
    assert_no_link_to_user_text("Home")

    go_to(page, "Augment")
    run_augmentation(page)
    full_page_screenshot(page, artifacts / "escaping_augment.png")
    assert_no_link_to_user_text("Augment")
    go_to(page, "Compare")
    run_comparison(page)
    full_page_screenshot(page, artifacts / "escaping_compare.png")
    assert_no_link_to_user_text("Compare")
    with page.expect_download(timeout=COMPUTE_TIMEOUT_MS) as pending:
        page.get_by_role("button", name="HTML report").click()
    report = Path(pending.value.path())
    for name in ("Fidelity", "Embeddings", "What-if", "Runs"):
        go_to(page, name)
        full_page_screenshot(page, artifacts / f"escaping_{name.lower().replace('-', '')}.png")
        assert_no_link_to_user_text(name)
    page.goto(report.as_uri())  # the report, opened as a user would
    page.wait_for_load_state("load")
    page.wait_for_timeout(1_000)
    assert_no_link_to_user_text("HTML report")
    assert exceptions(page) == []
    assert requests == [], f"the browser fetched {requests}"
    assert app_server.failures() == []
