"""Fixtures for the real-browser test: one ``streamlit run`` server and one headless Chromium per module.

The server gets a fresh ``RECAUG_HOME`` (see ``server.isolated_home``): nothing it stores survives into the next
run, while the content-keyed embedding and numba caches are shared so a warm machine skips the ~5 s item-text
encode. Screenshots and the server log go to ``test-artifacts/e2e/`` (gitignored) for CI to keep.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.driver import launch_chromium, open_app
from tests.e2e.server import ROOT, AppServer, isolated_home, running_app

ARTIFACTS = ROOT / "test-artifacts" / "e2e"


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in (ARTIFACTS / "server.log", *ARTIFACTS.glob("FAILED-*.png")):
        stale.unlink(missing_ok=True)
    with running_app(ARTIFACTS / "server.log", home=isolated_home(tmp_path_factory.mktemp("recaug-home"))) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, so a fixture can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture()
def app_page(request: pytest.FixtureRequest, browser: Browser, app_server: AppServer) -> Iterator[Page]:
    """A new user session (its own browser context) on Home; a failed test leaves a screenshot of where it was."""
    page = open_app(browser, app_server.url)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
    page.context.close()


@pytest.fixture()
def artifacts() -> Path:
    return ARTIFACTS
