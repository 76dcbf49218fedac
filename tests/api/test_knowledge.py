"""/v1/knowledge: adding documents (idempotent, validated, scoped), removing them, and
searching what the caller may read, against the real API, Redis, MongoDB and Chroma."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from events.catalog.documents import MAX_TEXT_BYTES
from events.store import EventStore
from impressox.configs import knowledge_config
from impressox.connections import connect_redis
from impressox.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeContext
from knowledge.indexer import KnowledgeIndexer
from tests.api.conftest import bearer

Key = tuple[UUID, str]
DOCUMENTS = "/v1/knowledge/documents"

NOTES = "# Ether\nMy ether staking plan: stake in March.\n\n# Risks\nSlashing.\n"


def body(**fields: Any) -> dict[str, Any]:
    return {"id": "notes", "title": "My notes", "text": NOTES, "symbols": ["ETH"], **fields}


@pytest.fixture
def index_documents(settings: Settings, redis_url: str) -> Callable[[], None]:
    """Runs the knowledge handler over the documents appended so far."""

    async def go() -> None:
        redis = await connect_redis(redis_url)
        store = EventStore(redis, settings.stream_names())
        context = KnowledgeContext(store, KnowledgeBase(knowledge_config(settings)))
        indexer = KnowledgeIndexer(context)
        try:
            await indexer.handle_batch([r async for r in store.read_category("documents")])
        finally:
            await context.knowledge.aclose()
            await redis.aclose()

    return lambda: asyncio.run(go())


def test_adding_needs_a_key_with_the_user_scope(client: TestClient, ingester: Key) -> None:
    anonymous = client.post(DOCUMENTS, json=body())
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    refused = client.post(DOCUMENTS, json=body(), headers=bearer(ingester[1]))
    assert refused.status_code == 403
    assert client.get("/v1/knowledge/search", params={"q": "x"}).status_code == 401


def test_invalid_documents_are_refused_naming_the_field(client: TestClient, user: Key) -> None:
    cases = {
        "body.id": body(id="no spaces allowed"),
        "body.title": body(title=""),
        "body.format": body(format="pdf"),
        "body.symbols.0": body(symbols=["btc"]),
        "body.text": body(text="x" * (MAX_TEXT_BYTES + 1)),
        "body.source": body(source=""),
        "body.extra": body(extra=1),
    }
    for field, request in cases.items():
        response = client.post(DOCUMENTS, json=request, headers=bearer(user[1]))
        assert response.status_code == 422, field
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in response.json()["errors"]] == [field]
    too_big = client.post(
        DOCUMENTS, json=body(text="é" * (MAX_TEXT_BYTES // 2 + 1)), headers=bearer(user[1])
    )
    assert "at most 1000000 bytes" in too_big.json()["errors"][0]["message"]


def test_adding_is_accepted_once_per_id(
    client: TestClient, user: Key, admin: Key, settings: Settings
) -> None:
    first = client.post(DOCUMENTS, json=body(), headers=bearer(user[1]))
    assert first.status_code == 202
    receipt = first.json()
    assert receipt["id"] == "notes"
    assert receipt["visibility"] == "private"
    assert receipt["duplicate"] is False
    stream = settings.stream_names().stream_for_key("documents", f"{user[0]}:notes")
    assert receipt["position"].startswith(f"{stream}@")

    again = client.post(DOCUMENTS, json=body(), headers=bearer(user[1]))
    assert again.status_code == 202
    assert again.json() | {"duplicate": False} == receipt
    assert again.json()["duplicate"] is True

    changed = client.post(DOCUMENTS, json=body(text="Other text."), headers=bearer(user[1]))
    assert changed.status_code == 409
    assert "remove it first" in changed.json()["detail"]

    shared = client.post(DOCUMENTS, json=body(), headers=bearer(admin[1]))
    assert (shared.status_code, shared.json()["visibility"]) == (202, "shared")
    assert shared.json()["event_id"] != receipt["event_id"]


def test_removing_a_document(client: TestClient, user: Key, other_user: Key) -> None:
    assert client.post(DOCUMENTS, json=body(), headers=bearer(user[1])).status_code == 202
    assert client.delete(f"{DOCUMENTS}/notes").status_code == 401
    assert client.delete(f"{DOCUMENTS}/notes", headers=bearer(other_user[1])).status_code == 404
    removed = client.delete(f"{DOCUMENTS}/notes", headers=bearer(user[1]))
    assert (removed.status_code, removed.json()["id"]) == (202, "notes")
    gone = client.delete(f"{DOCUMENTS}/notes", headers=bearer(user[1]))
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert client.post(DOCUMENTS, json=body(text="Again."), headers=bearer(user[1])).json()[
        "duplicate"
    ] is False  # fmt: skip


def test_search_answers_with_shared_documents_and_the_callers_own(
    client: TestClient,
    user: Key,
    other_user: Key,
    admin: Key,
    index_documents: Callable[[], None],
) -> None:
    client.post(DOCUMENTS, json=body(), headers=bearer(user[1]))
    client.post(
        DOCUMENTS,
        json=body(id="guide", title="Staking guide", format="text", symbols=[],
                  text="Ether staking for everyone: validators need 32 ETH.",
                  source="https://example.com/guide"),
        headers=bearer(admin[1]),
    )  # fmt: skip
    index_documents()

    def search(key: Key, **params: Any) -> list[dict[str, Any]]:
        response = client.get(
            "/v1/knowledge/search", params={"q": "ether staking", **params}, headers=bearer(key[1])
        )
        assert response.status_code == 200, response.text
        hits: list[dict[str, Any]] = response.json()["hits"]
        return hits

    mine = search(user)
    assert {(hit["document_id"], hit["section"]) for hit in mine} == {
        ("notes", "Ether"),
        ("notes", "Risks"),
        ("guide", None),
    }
    plan = next(hit for hit in mine if hit["section"] == "Ether")
    assert plan["text"] == "# Ether\nMy ether staking plan: stake in March."
    assert (plan["kind"], plan["title"], plan["visibility"], plan["symbols"]) == (
        "document",
        "My notes",
        "private",
        ["ETH"],
    )
    guide = next(hit for hit in mine if hit["document_id"] == "guide")
    assert (guide["visibility"], guide["url"]) == ("shared", "https://example.com/guide")
    assert [hit["document_id"] for hit in search(other_user)] == ["guide"]
    assert [hit["document_id"] for hit in search(admin)] == ["guide"]  # not others' notes
    assert {hit["document_id"] for hit in search(user, symbol="ETH", limit=5)} == {"notes"}
    assert len(search(user, limit=1)) == 1

    bad = client.get(
        "/v1/knowledge/search", params={"q": "x", "symbol": "eth"}, headers=bearer(user[1])
    )
    assert bad.status_code == 422
    assert [error["field"] for error in bad.json()["errors"]] == ["query.symbol"]
