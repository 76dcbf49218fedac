"""The web page's API types are generated from the committed OpenAPI document: it must be
the API's own, or the page would be typed against an API that no longer exists."""

from __future__ import annotations

from pathlib import Path

from impressox.openapi_file import main, openapi_document, render

COMMITTED = Path(__file__).resolve().parents[2] / "web" / "src" / "api" / "openapi.json"


def test_the_committed_document_is_the_apis() -> None:
    assert COMMITTED.read_bytes() == render(openapi_document()), (
        "web/src/api/openapi.json is stale: run `make web-types` and commit"
        " openapi.json and schema.d.ts"
    )


def test_the_writer_refuses_a_wrong_call(tmp_path: Path) -> None:
    assert main([]) == 2
    assert main([str(tmp_path / "out.json")]) == 0
    assert (tmp_path / "out.json").read_bytes() == COMMITTED.read_bytes()
