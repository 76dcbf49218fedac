"""Debian's Chromium, headless, driven by Playwright: browsers cannot be downloaded here.

The flags keep Chromium from reaching out on its own (component updates, sync, field
trials): on a closed network those connections are refused many at a time and slow
every page. Playwright gives each launch a fresh profile directory of its own, so no
state leaks between runs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, async_playwright

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


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium with a fresh profile."""
    executable = chromium_path()
    if executable is None:
        raise RuntimeError("no Chromium: `apt-get install chromium` (or set IMPRESSOX_CHROMIUM)")
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=executable,
            headless=True,
            args=list(QUIET_FLAGS),
        )
        try:
            yield browser
        finally:
            await browser.close()
