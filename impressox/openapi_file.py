"""Write the API's OpenAPI document to a file: the web page's types are generated from it.

``python -m impressox.openapi_file web/src/api/openapi.json`` (run by `make web-types`). The
document depends on no server: the app is built but never started. A test compares the
committed file with the app's document, so the page's types cannot drift from the API.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from impressox.api_app import create_app
from impressox.settings import Settings


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, as `/openapi.json` serves it."""
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(
            Settings(data_dir=Path(data_dir)),
            redis_url="redis://127.0.0.1:1",
            mongo_url="mongodb://127.0.0.1:1",
        )
        return app.openapi()


def render(document: dict[str, Any]) -> bytes:
    """Stable text: sorted keys, two-space indents, a final newline (diffs stay small)."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m impressox.openapi_file OUTPUT.json", file=sys.stderr)
        return 2
    Path(argv[0]).write_bytes(render(openapi_document()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
