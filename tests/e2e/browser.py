"""Python Playwright driving Debian's Chromium (never a downloaded browser); skipped without it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium is not installed (apt-get install -y chromium "
    "fonts-wqy-microhei; .ci/run does it)",
)


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def screenshots_dir() -> Path:
    """docs/screenshots when asked for (`make screenshots`), otherwise a scratch folder, so an
    ordinary test run leaves the committed pictures alone."""
    if os.environ.get("PILOTWATCH_SCREENSHOTS") == "docs":
        return DOCS_SCREENSHOTS
    return Path(tempfile.gettempdir()) / "pilotwatch-screenshots"


def shoot(page: Any, name: str, full_page: bool = True) -> None:
    folder = screenshots_dir()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


def log_in(page: Any, base: str, email: str, password: str = "pilotwatch-demo") -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    # a clerk lands on the units, the office on its dashboard
    page.wait_for_url(lambda url: url.startswith(base) and "/login" not in url)


def overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0: nothing scrolls sideways)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
