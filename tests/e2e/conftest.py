"""Browser tests: Playwright driving Debian's headless Chromium against pytest-django's live server.

Without a browser the tests skip with a message, except in CI (OPSDESK_REQUIRE_BROWSER=1),
where a missing browser is a failure: the journeys must really run there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The live server and the ORM calls in the tests share one thread with Playwright's event loop.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("OPSDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "images"


def _require_browser() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"Chromium not found at {CHROMIUM}; install Debian's chromium or set OPSDESK_CHROMIUM."
    if os.environ.get("OPSDESK_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context per test, collecting console errors (CSP violations land there)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()


@pytest.fixture
def screenshots_dir(tmp_path) -> Path:
    """Where the journeys save their screenshots: docs/images/ when OPSDESK_SCREENSHOTS=1 (to refresh
    the documentation), a temporary folder otherwise, so a test run never changes tracked files."""
    if os.environ.get("OPSDESK_SCREENSHOTS") != "1":
        return tmp_path
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
