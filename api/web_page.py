"""The web page: the built bundle of ``web/``, served at ``/`` from the API's own origin.

Same origin means the page needs no CORS and uses the same key as any other client.

- ``/assets/<name>``: Vite names these by their content hash, so they never change
  under a name; they are cached for a year (``immutable``).
- ``/`` and any other page path (``/markets``, ``/explorer/...``: the page routes in the
  browser) answer ``index.html`` with ``no-cache``, so a new build is picked up at once.
- Paths the API owns (``/v1``, ``/docs``, ``/healthz``...) and paths that look like files
  are never answered with the page: an unknown one stays a problem+json 404, so a typo in
  a client's URL is not mistaken for HTML.

Where the bundle is: `Settings.web_dir`, else ``web/dist`` of the source tree. When it
is missing, ``/`` says why (HTTP 503, a short HTML page) and the API runs as before.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException

SOURCE_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
"""Where `make web` puts the bundle in a source checkout."""

API_PREFIXES = ("/v1", "/docs", "/redoc", "/openapi.json", "/static-offline-docs", "/healthz",
                "/readyz", "/metrics", "/assets")  # fmt: skip
"""Paths that belong to the API (or to files): never answered with the page."""

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class Bundle:
    """The built page, or why there is none (`missing` is then the reason)."""

    directory: Path
    missing: str | None

    @property
    def index(self) -> Path:
        return self.directory / "index.html"


def locate_bundle(web_dir: Path | None) -> Bundle:
    """The bundle in `web_dir` (None: the source tree's ``web/dist``), checked for index.html."""
    directory = (web_dir or SOURCE_DIST).resolve()
    if (directory / "index.html").is_file():
        return Bundle(directory, None)
    if web_dir is not None:
        return Bundle(directory, f"IMPRESSOX_WEB_DIR has no index.html ({directory})")
    return Bundle(directory, f"{directory} has no index.html: build it with `make web`")


def install_web_page(app: FastAPI, bundle: Bundle) -> None:
    """Serve `bundle` at ``/``, its assets, and the page's own paths (see the module)."""

    @app.get("/", include_in_schema=False, response_model=None)
    async def home() -> Response:
        return _page(bundle)

    @app.get("/assets/{name:path}", include_in_schema=False, response_model=None)
    async def asset(name: str) -> Response:
        path = (bundle.directory / "assets" / name).resolve()
        if bundle.missing or not path.is_relative_to(bundle.directory) or not path.is_file():
            raise HTTPException(404, f"no asset {name}")
        return FileResponse(path, headers={"Cache-Control": IMMUTABLE})

    problem_handler = app.exception_handlers[HTTPException]

    async def page_or_problem(request: Request, error: Exception) -> Any:
        if _is_page_path(request, error):
            return _page(bundle)
        answer = problem_handler(request, error)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(HTTPException, page_or_problem)


def _is_page_path(request: Request, error: Exception) -> bool:
    """A GET no route matched, outside the API's paths, not naming a file."""
    if not isinstance(error, HTTPException) or error.status_code != 404:
        return False
    if "endpoint" in request.scope or request.method not in ("GET", "HEAD"):
        return False  # a route said 404 (no such rule): that answer stands
    path = request.url.path
    if any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES):
        return False
    return "." not in path.rsplit("/", 1)[-1]


def _page(bundle: Bundle) -> Response:
    if bundle.missing is not None:
        return HTMLResponse(_NOT_BUILT.format(reason=_escape(bundle.missing)), status_code=503)
    return FileResponse(bundle.index, headers={"Cache-Control": REVALIDATE})


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Impressox: web page not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>The web page is not built</h1>
<p>{reason}</p>
<p>The API runs without it: see <a href="/docs">the API's docs</a>.</p>
</body></html>
"""
