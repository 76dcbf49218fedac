"""The web page at ``/``: the bundle, its cache headers, and the page paths' fallback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.web_page import IMMUTABLE, REVALIDATE, locate_bundle
from impressox.api_app import create_app
from impressox.settings import Settings
from tests.readside import isolated_settings

INDEX = '<!doctype html><html><body><div id="root"></div></body></html>'


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A built page as Vite lays it out: index.html and content-hashed assets."""
    directory = tmp_path / "dist"
    (directory / "assets").mkdir(parents=True)
    (directory / "index.html").write_text(INDEX)
    (directory / "assets" / "index-Ab12Cd.js").write_text("console.log('page')")
    return directory


@pytest.fixture
def page_client(
    prefix: str, tmp_path: Path, bundle: Path, redis_url: str, mongo_url: str
) -> Iterator[TestClient]:
    settings = isolated_settings(prefix, tmp_path, web_dir=bundle)
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as client:
        yield client


def test_the_root_is_the_page_and_is_revalidated(page_client: TestClient) -> None:
    response = page_client.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == REVALIDATE


def test_hashed_assets_are_cached_for_good(page_client: TestClient) -> None:
    response = page_client.get("/assets/index-Ab12Cd.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE


@pytest.mark.parametrize("path", ["/markets", "/explorer/streams", "/alerts/rules/new"])
def test_page_paths_open_the_page(page_client: TestClient, path: str) -> None:
    """A reload on a page's own path (the browser routes it) gets the page, not a 404."""
    response = page_client.get(path)
    assert response.status_code == 200
    assert response.text == INDEX


@pytest.mark.parametrize(
    "path",
    [
        "/v1/nowhere",
        "/v1/rules/not-a-uuid/nothing",
        "/docs/nowhere",
        "/healthz/more",
        "/assets/missing.js",
        "/assets/../index.html",
        "/favicon.ico",
    ],
)
def test_the_fallback_never_swallows_the_api_or_files(page_client: TestClient, path: str) -> None:
    response = page_client.get(path)
    # /v1 asks for the key first (no key here): 401, never the page
    assert response.status_code == (401 if path.startswith("/v1/") else 404)
    assert response.headers["content-type"] == "application/problem+json"


def test_a_routes_own_refusal_stands(page_client: TestClient) -> None:
    """What a matched route answers is its answer, never the page (here: no key, 401)."""
    response = page_client.get("/v1/rules/6f1c1a43-0d55-4b9e-8a5e-2b0c9bb1d4a1")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_other_methods_on_page_paths_are_not_the_page(page_client: TestClient) -> None:
    response = page_client.post("/markets")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_without_a_bundle_the_root_says_why_and_the_api_runs(
    prefix: str, tmp_path: Path, redis_url: str, mongo_url: str
) -> None:
    settings = isolated_settings(prefix, tmp_path, web_dir=tmp_path / "nothing-here")
    with TestClient(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)) as client:
        root = client.get("/")
        health = client.get("/healthz")
    assert root.status_code == 503
    assert "IMPRESSOX_WEB_DIR has no index.html" in root.text
    assert health.status_code == 200


def test_the_source_trees_bundle_is_the_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    located = locate_bundle(settings.web_dir)
    assert located.directory == Path(__file__).resolve().parents[2] / "web" / "dist"
    assert located.missing is None or "make web" in located.missing
