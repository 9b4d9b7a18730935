"""Drive the dashboard in headless Chromium the way a user does: sidebar navigation, buttons, waiting for results.

Used by the browser test (which adds the assertions) and by ``scripts/screenshots.py``. Pages are reached through
the sidebar, never by URL: opening a page URL starts a new session with an empty ``session_state``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Locator, Page, Playwright, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

# Playwright's own browser download fails here; Debian's chromium is used instead. --disable-dev-shm-usage: CI
# containers often have a 64 MB /dev/shm, too small for chromium's shared memory.
CHROMIUM_ARGS = (
    "--headless",
    "--disable-dev-shm-usage",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1400, "height": 900}
UI_TIMEOUT_MS = 120_000  # page loads and reruns; generous because the machine may be shared and loaded
CHOOSE_ATTEMPTS = 4  # a selectbox whose list did not open is re-opened this many times at most
CHOOSE_TIMEOUT_MS = 15_000  # for its option to show once the list is open
COMPUTE_TIMEOUT_MS = 420_000  # training three models twice; ~30 s on two idle cores, minutes when overloaded
# The main script is the first sidebar entry whatever it is called, so Home is reached by position.
HEADINGS = {
    "Home": "recaug",
    "Augment": "Augment",
    "Embeddings": "Embeddings: real vs synthetic",
    "Compare": "Compare before and after",
    "What-if": "Cold-start what-ifs",
    "Fidelity": "Fidelity: real vs synthetic",
    "Runs": "Saved runs",
}
# Settled: no script run, no greyed-out (stale) element, no placeholder skeleton, every plotly chart drawn.
IDLE_JS = """() => !document.querySelector('[data-testid=stStatusWidget], [data-stale=true], [data-testid=stSkeleton]')
    && [...document.querySelectorAll('[data-testid=stPlotlyChart]')].every(c => c.querySelector('.main-svg'))"""
# Plotly's computed traces: arrays are decoded there (``data`` may still hold base64 ``bdata`` from plotly.py).
TRACES_JS = """el => (el._fullData || []).filter(t => t.visible === true).map(t => ({
    name: t.name, n: t._length || 0, x: Array.from(t.x || []), y: Array.from(t.y || []),
}))"""
# The data grid draws on a canvas; its accessible twin has one element per cell, test id glide-cell-<col>-<row>.
GRID_ROWS_JS = """el => {
    const rows = {};
    for (const cell of el.querySelectorAll('[data-testid^="glide-cell-"]')) {
        const [col, row] = cell.dataset.testid.split('-').slice(2).map(Number);
        (rows[row] ||= [])[col] = cell.innerText;
    }
    return Object.keys(rows).sort((a, b) => a - b).map(row => rows[row]);
}"""


def launch_chromium(playwright: Playwright) -> Browser:
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("chromium is not on PATH; `make browser` installs it (Debian's chromium package)")
    return playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))


def open_app(browser: Browser, url: str) -> Page:
    """A new session (fresh browser context) on Home, with MovieLens-100k loaded."""
    expect.set_options(timeout=UI_TIMEOUT_MS)
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(url)
    expect(heading(page, "Home")).to_be_visible()
    expect(metric_value(page, "Users")).to_be_visible()
    return page


def heading(page: Page, name: str) -> Locator:
    return page.get_by_role("heading", level=1, name=HEADINGS[name], exact=True)


def metric_value(page: Page, label: str) -> Locator:
    card = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return card.get_by_test_id("stMetricValue")


def choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` and wait for the rerun.

    The option is typed first (the dropdown is virtualised, so a long list may not render it at all), then the list
    is opened with the keyboard. Typing the value the box already shows fires no change, so the list may stay shut;
    ArrowDown after typing opens it either way, and a list that still did not open is tried again.
    """
    label_element = page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)
    combobox = page.get_by_test_id("stSelectbox").filter(has=label_element).get_by_role("combobox")
    target = page.get_by_role("option", name=option, exact=True)
    for attempt in range(CHOOSE_ATTEMPTS):
        combobox.focus()
        combobox.fill(option)
        combobox.press("ArrowDown")
        try:
            target.click(timeout=CHOOSE_TIMEOUT_MS)
            break
        except PlaywrightTimeoutError:
            if attempt == CHOOSE_ATTEMPTS - 1:
                raise
            print(f"choose: list for {label!r} did not open, retrying", flush=True)
            combobox.press("Escape")
            wait_until_idle(page)
    wait_until_idle(page)
    expect(combobox).to_have_value(option)


def go_to(page: Page, name: str) -> None:
    """Click the page's sidebar link and wait until it has rendered."""
    links = page.get_by_test_id("stSidebarNav").get_by_role("link")
    (links.first if name == "Home" else links.filter(has_text=name)).click()
    expect(heading(page, name)).to_be_visible()
    wait_until_idle(page)


def wait_until_idle(page: Page, timeout_ms: int = UI_TIMEOUT_MS) -> None:
    """Wait until the page has settled (see ``IDLE_JS``)."""
    page.wait_for_function(IDLE_JS, timeout=timeout_ms)


def chart(page: Page, key: str) -> Locator:
    """The plotly figure of the chart created with ``st.plotly_chart(..., key=key)``."""
    return page.locator(f".st-key-{key} .js-plotly-plot")


def traces(figure: Locator) -> list[dict[str, Any]]:
    """The visible traces plotly drew: ``name``, ``n`` (points or bars), ``x`` and ``y``."""
    return figure.evaluate(TRACES_JS)


def plotted_points(figure: Locator) -> int:
    """Points or bars plotly actually drew in the figure (0 for an empty chart)."""
    return sum(int(trace["n"]) for trace in traces(figure))


def grid_rows(table: Locator) -> list[list[str]]:
    """Cell texts of an ``st.dataframe``, row by row, as far as the grid has rendered them (it virtualises)."""
    expect(table.get_by_test_id("glide-cell-0-0")).to_be_attached()  # the grid fills its cells after layout
    return table.evaluate(GRID_ROWS_JS)


def _press_and_wait(page: Page, button: str, result: Locator) -> None:
    """Click, then wait for the result, or stop early at an error message (the caller asserts there is none)."""
    page.get_by_role("button", name=button).click()
    expect(result.or_(page.get_by_test_id("stAlertContentError")).first).to_be_visible(timeout=COMPUTE_TIMEOUT_MS)
    wait_until_idle(page, COMPUTE_TIMEOUT_MS)


def run_augmentation(page: Page) -> None:
    """Press Run augmentation with the page's current settings and wait for the synthetic-rows preview."""
    _press_and_wait(page, "Run augmentation", page.get_by_test_id("stTabPanel").get_by_test_id("stDataFrame"))


def run_comparison(page: Page) -> None:
    """Press Run comparison and wait for the results table and the bar chart."""
    _press_and_wait(page, "Run comparison", chart(page, "compare_chart"))


def full_page_screenshot(page: Page, path: Path) -> Path:
    """The whole page: streamlit scrolls inside its main panel, so grow the viewport to the content first."""
    main = page.get_by_test_id("stMain")
    page.evaluate("() => document.activeElement?.blur()")  # no focus ring on the button just pressed
    page.mouse.move(0, 0)
    try:
        for _ in range(3):  # a taller viewport can re-flow charts; stop once the content height is stable
            wait_until_idle(page)
            height = max(VIEWPORT["height"], int(main.evaluate("el => el.scrollHeight")))
            if height == (page.viewport_size or VIEWPORT)["height"]:
                break
            page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True, animations="disabled")
    finally:
        page.set_viewport_size(VIEWPORT)
    return path


def exceptions(page: Page) -> list[str]:
    """Texts of any Streamlit exception boxes (an uncaught error in a page)."""
    return page.get_by_test_id("stException").all_inner_texts()


def error_alerts(page: Page) -> list[str]:
    """Texts of st.error boxes (the app's friendly error messages)."""
    return page.get_by_test_id("stAlertContentError").all_inner_texts()
