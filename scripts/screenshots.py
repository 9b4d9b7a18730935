"""Screenshots of the real dashboard: the README image and one full-page PNG per page.

Starts ``streamlit run app.py`` and walks Home → Augment (run) → Embeddings → Compare (run) in headless Chromium
with the same code as the browser test (``tests/e2e``). The app gets a throw-away ``RECAUG_HOME`` (so the
comparison it runs is not saved among your runs) that shares your cached embeddings and UMAP projections.

Run: ``.venv/bin/python scripts/screenshots.py`` (needs ``chromium`` on PATH: ``make browser``).
Writes ``docs/screenshot.png`` (the Compare page) and ``test-artifacts/screens/<page>.png``; exits 1 if any page
showed an error.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.driver import (
    COMPUTE_TIMEOUT_MS,
    error_alerts,
    exceptions,
    full_page_screenshot,
    go_to,
    launch_chromium,
    open_app,
    run_augmentation,
    run_comparison,
)
from tests.e2e.server import ROOT, SHARED_CACHES, isolated_home, running_app

UMAP_WAIT_MS = 300_000  # UMAP runs in the background; the first one after a cold start compiles numba


def _wait_for_umap(page: Page) -> list[str]:
    """Wait until the Embeddings page shows UMAP instead of the instant PCA stand-in (a problem if it never does)."""
    try:
        expect(page.get_by_text(" · UMAP · ")).to_be_visible(timeout=UMAP_WAIT_MS)
    except AssertionError:
        return [f"embeddings: UMAP not ready after {UMAP_WAIT_MS / 1000:.0f} s; the PNG shows PCA"]
    return []


def _nothing(page: Page) -> None:
    """Home needs no action: MovieLens-100k is loaded by default."""


def _wait_for_fidelity(page: Page) -> None:
    """Fidelity is measured when the page opens; wait for its table rather than shoot the progress bar."""
    page.get_by_role("button", name="Fidelity table (CSV)").wait_for(timeout=COMPUTE_TIMEOUT_MS)


# (page, what to do there before the screenshot) in the order a user goes; each page's PNG is <page>.png.
WALK: tuple[tuple[str, Callable[[Page], list[str] | None]], ...] = (
    ("Home", _nothing),
    ("Augment", run_augmentation),
    ("Embeddings", _wait_for_umap),
    ("Compare", run_comparison),
    ("Fidelity", _wait_for_fidelity),
    ("Runs", _nothing),
)
README_PAGE = "Compare"  # shows the product best: the before/after table, the verdict and the bar chart


def take_screenshots(out: Path, docs_image: Path) -> list[str]:
    """Write the PNGs; return the problems seen (error boxes, server-side app errors)."""
    problems: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="recaug-screens-") as tmp,
        running_app(out / "server.log", home=isolated_home(Path(tmp), (*SHARED_CACHES, "projections"))) as server,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        page = open_app(browser, server.url)
        for name, action in WALK:
            if name != "Home":
                go_to(page, name)
            problems += action(page) or []
            full_page_screenshot(page, out / f"{name.lower()}.png")
            problems += [f"{name}: {text}" for text in exceptions(page) + error_alerts(page)]
        browser.close()
        problems += [f"server log: {line}" for line in server.failures()]
    docs_image.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / f"{README_PAGE.lower()}.png", docs_image)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "screens", help="per-page PNGs")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "screenshot.png", help="README image")
    args = parser.parse_args(argv)
    problems = take_screenshots(args.out, args.docs)
    print(f"wrote {args.docs} and {', '.join(sorted(p.name for p in args.out.glob('*.png')))} in {args.out}")
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
