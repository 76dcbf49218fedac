"""Fixtures of the browser tests: the system, one Chromium, a page per test, and where
the screenshots go (kept as artefacts of the run, under test-artifacts/web/)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page
from pymongo import MongoClient

from tests.impressox.cli_support import REPO
from tests.web.browser import chromium
from tests.web.system import System, start_system

ARTIFACTS = Path(os.environ.get("IMPRESSOX_TEST_ARTIFACTS", REPO / "test-artifacts")) / "web"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def system(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, mongo_url: str
) -> Iterator[System]:
    prefix = f"w{uuid.uuid4().hex[:10]}"
    running = start_system(tmp_path_factory.mktemp("system"), redis_url, mongo_url, prefix)
    try:
        yield running
    finally:
        running.stop()
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        client.close()
        with MongoClient[dict[str, object]](mongo_url) as mongo:
            mongo.drop_database(running.database)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    opened.set_default_timeout(30_000)
    yield opened
    opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab that records what went wrong in the page: a test fails on a page error."""
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    assert not errors, f"the page threw: {errors}"


def screenshot(page: Page, name: str) -> Path:
    """Keep what the page showed, as an artefact of the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
