"""Real browser (issue #19): work survives a refresh, Stop stops a comparison and keeps its finished seeds."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.driver import (
    COMPUTE_TIMEOUT_MS,
    error_alerts,
    exceptions,
    full_page_screenshot,
    go_to,
    grid_rows,
    heading,
    metric_value,
    run_augmentation,
    wait_until_idle,
)
from tests.e2e.server import AppServer

IDLE_WINDOW_S = 12  # seconds of doing nothing on Embeddings; the loop re-ran every ~2 s


def _clean(page: Page, server: AppServer) -> None:
    assert exceptions(page) == [] and error_alerts(page) == []
    assert server.failures() == [], f"the server logged app errors; see {server.log_path}"


@pytest.mark.e2e
def test_refresh_keeps_the_augmentation_on_every_page(app_page: Page, app_server: AppServer, artifacts: Path) -> None:
    page = app_page
    go_to(page, "Augment")
    cap = page.get_by_role("spinbutton", name="Max rows per user")
    cap.fill("3")
    cap.press("Enter")
    wait_until_idle(page)
    run_augmentation(page)
    kept = metric_value(page, "Synthetic rows").inner_text()
    expect(page).to_have_url(re.compile(r"[?&]aug=[0-9a-f]{16}"))

    page.reload()  # a new session: only the URL is left
    # Stay on the reloaded page: a sidebar click before the new session's first run has read the URL would
    # navigate without it (a race the test must not have, not the behaviour under test).
    expect(heading(page, "Augment")).to_be_visible()
    expect(metric_value(page, "Synthetic rows")).to_have_text(kept)
    wait_until_idle(page)
    expect(page.get_by_role("spinbutton", name="Max rows per user")).to_have_value("3")
    expect(page.get_by_text("The settings changed since")).to_have_count(0)
    _clean(page, app_server)
    full_page_screenshot(page, artifacts / "augment_after_refresh.png")
    go_to(page, "Fidelity")
    expect(page.get_by_text("shows what the Augment page made")).to_have_count(0)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    go_to(page, "Embeddings")
    expect(page.get_by_text("No synthetic data here yet")).to_have_count(0)
    _clean(page, app_server)


@pytest.mark.e2e
def test_stop_ends_a_comparison_and_keeps_the_finished_seeds(
    app_page: Page, app_server: AppServer, artifacts: Path
) -> None:
    page = app_page
    go_to(page, "Compare")
    page.get_by_role("button", name="Run comparison").click()
    bar = page.get_by_test_id("stProgress")
    expect(bar).to_contain_text(re.compile(r"seed 1 \(\d+ of"), timeout=COMPUTE_TIMEOUT_MS)  # seed 1's fits end
    expect(bar).to_contain_text("left")  # a time left is shown
    page.get_by_role("button", name="Stop").click()
    note = page.get_by_test_id("stAlertContentInfo").filter(has_text="Stopped after seed")
    expect(note).to_be_visible(timeout=COMPUTE_TIMEOUT_MS)
    expect(note).to_contain_text(re.compile(r"Stopped after seed \d by you"))
    wait_until_idle(page)
    expect(page.get_by_test_id("stProgress")).to_have_count(0)
    _clean(page, app_server)
    rows = grid_rows(page.get_by_test_id("stDataFrame").first)
    assert rows, "the finished seed's results are shown"
    full_page_screenshot(page, artifacts / "compare_stopped.png")
    # The results are seed 0's only: the verdict line says so, and the form's 3 seeds are flagged as different.
    expect(page.get_by_text("other settings than the ones above")).to_be_visible()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.e2e
def test_embeddings_stops_rerunning_once_umap_is_drawn(app_page: Page, app_server: AppServer) -> None:
    page = app_page
    sent: list[object] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    page.reload()  # reconnect, so the listener sees this session's socket
    expect(metric_value(page, "Users")).to_be_visible()
    go_to(page, "Embeddings")
    expect(page.get_by_text(re.compile(r"points · UMAP · "))).to_be_visible(timeout=COMPUTE_TIMEOUT_MS)
    wait_until_idle(page)
    page.wait_for_timeout(3_000)  # a rerun that the final UMAP drawing asks for has happened by now
    before, cpu = len(sent), _cpu_seconds(app_server.process.pid)
    page.wait_for_timeout(IDLE_WINDOW_S * 1000)
    reruns, cpu = len(sent) - before, _cpu_seconds(app_server.process.pid) - cpu
    print(f"Embeddings after UMAP, {IDLE_WINDOW_S} s idle: {reruns} reruns asked, server CPU {cpu:.2f} s")
    assert reruns == 0, f"{reruns} reruns in {IDLE_WINDOW_S} s of doing nothing"
    _clean(page, app_server)


@pytest.mark.e2e
def test_a_refresh_during_a_comparison_keeps_it_running_and_shows_its_result(
    app_page: Page, app_server: AppServer, artifacts: Path
) -> None:
    """A refresh starts a new session; the comparison's thread goes on, the URL names it, the new session picks it
    up: the bar comes back, then the result, with the form as the run was started. (It used to be lost: the work
    wrote the old session's state, which raised once that session was gone, after every fit had finished.)"""
    page = app_page
    go_to(page, "Compare")
    seeds = page.get_by_role("spinbutton", name="Seeds")
    seeds.fill("4")  # settings no other test runs: not in the result cache
    seeds.press("Enter")
    wait_until_idle(page)
    page.get_by_role("button", name="Run comparison").click()
    expect(page.get_by_test_id("stProgress")).to_contain_text("running", timeout=COMPUTE_TIMEOUT_MS)
    expect(page).to_have_url(re.compile(r"[?&]jobs=[0-9a-f]{16}"))

    page.reload()
    expect(heading(page, "Compare")).to_be_visible()
    expect(page.get_by_role("spinbutton", name="Seeds")).to_have_value("4")
    verdict = page.get_by_test_id("stMarkdown").filter(has_text="Verdict on the question declared before the run")
    expect(verdict).to_be_visible(timeout=COMPUTE_TIMEOUT_MS)
    expect(verdict).to_contain_text("(4 seeds")
    wait_until_idle(page)
    expect(page.get_by_text("made with other settings")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"jobs="))
    expect(page).to_have_url(re.compile(r"[?&]run=\d{8}-\d{6}"))  # saved, and a later refresh reopens it
    full_page_screenshot(page, artifacts / "compare_after_refresh_mid_run.png")
    _clean(page, app_server)
