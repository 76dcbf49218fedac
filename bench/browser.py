"""Debian's Chromium, headless, for the web page's benchmark and browser tests.

Browsers cannot be downloaded here, so Playwright is given Debian's executable. The
flags keep Chromium from reaching out on its own (component updates, sync, field
trials): on a closed network those connections are refused many at a time and slow
every page. Playwright gives each launch a fresh profile directory of its own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


def chromium_path() -> str:
    """IMPRESSOX_CHROMIUM, else Debian's chromium; refuses clearly when there is none."""
    configured = os.environ.get("IMPRESSOX_CHROMIUM")
    if configured:
        return configured
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    found = shutil.which("chromium")
    if found is None:
        raise RuntimeError("no Chromium: `apt-get install chromium` (or set IMPRESSOX_CHROMIUM)")
    return found
