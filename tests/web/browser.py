"""The browser tests' Chromium (Debian's, headless: see `bench.browser`), and signing in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, sync_playwright

from bench.browser import QUIET_FLAGS, chromium_path


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium with a fresh profile."""
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium_path(), headless=True, args=list(QUIET_FLAGS)
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
