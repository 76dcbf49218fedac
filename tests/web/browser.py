"""Debian's Chromium, headless, driven by Playwright: browsers cannot be downloaded here.

The flags keep Chromium from reaching out on its own (component updates, sync, field
trials): on a closed network those connections are refused many at a time and slow
every page. Playwright gives each launch a fresh profile directory of its own, so no
state leaks between runs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
QUIET_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
)


def chromium_path() -> str | None:
    """IMPRESSOX_CHROMIUM, else Debian's chromium, else None."""
    configured = os.environ.get("IMPRESSOX_CHROMIUM")
    if configured:
        return configured
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium")


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium with a fresh profile."""
    executable = chromium_path()
    if executable is None:
        raise RuntimeError("no Chromium: `apt-get install chromium` (or set IMPRESSOX_CHROMIUM)")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=executable, headless=True, args=list(QUIET_FLAGS)
        )
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Page, url: str, key: str) -> None:
    """Open the page at `url` and sign in with `key`, as a person would."""
    page.goto(url + "/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()
