"""Forged pagination cursors: refused with 400 naming `cursor`, never passed to MongoDB.

A cursor travels through the client, so it is input. Issue 13 found base64 cursors
holding ``{"$regex": "^(a+)+$"}``, ``$where`` or ``$expr`` reaching the query and
answering 500 with the database's error in the log.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import UUID

import pytest
from bson import json_util
from fastapi.testclient import TestClient

from tests.api.conftest import bearer

Key = tuple[UUID, str]

OPERATORS: list[Any] = [
    {"$regex": "^(a+)+$"},
    {"$where": "sleep(1000) || true"},
    {"$expr": {"$gt": ["$created_at", None]}},
    {"$ne": None},
]
"""What issue 13 sent, as the sort value and as the id."""


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def forged(sort_field: str) -> list[str]:
    """Cursors a client made up, in the old format and in the current one."""
    old_format = [b64(json_util.dumps([operator, "x"]).encode()) for operator in OPERATORS]
    old_format += [b64(json_util.dumps(["x", operator]).encode()) for operator in OPERATORS]
    shaped = [
        [sort_field, "s", {"$regex": "^(a+)+$"}, "x"],
        [sort_field, "s", "x", {"$gt": ""}],
        [sort_field, "i", 2**70, "x"],  # beyond MongoDB's 64 bits
        [sort_field, "i", True, "x"],
        [sort_field, "t", "not a time", "x"],
        [sort_field, "t", "2025-03-01T12:00:00", "x"],  # no offset
        [sort_field, "q", 1, "x"],
        *([sort_field, kind, value, "x"] for kind, value in MISMATCHED.get(sort_field, [])),
        ["_id", "s", "x", "x"],  # another listing's
        [sort_field, "s", "x"],
    ]
    return [*old_format, *(b64(json.dumps(cursor).encode()) for cursor in shaped), "%%%", "e30"]


TIME = ("t", "2025-03-01T12:00:00+00:00")
MISMATCHED: dict[str, list[tuple[str, Any]]] = {
    **{field: [("s", "zzz"), ("i", 7), ("f", 1.5)] for field in (
        "created_at", "last_message_at", "minute", "triggered_at", "at", "observed_at"
    )},
    "symbol": [TIME, ("i", 7)],
    "seq": [("s", "zzz"), TIME, ("f", 1.5)],
}  # fmt: skip
"""Well-formed values of a kind other than the one the listing sorts by (issue 13)."""

USER_LISTINGS = [
    ("/v1/rules", "created_at"),
    ("/v1/conversations", "last_message_at"),
    ("/v1/prices", "symbol"),
    ("/v1/candles?symbol=BTC-USDT", "minute"),
    ("/v1/alerts", "triggered_at"),
    ("/v1/notifications", "at"),
    ("/v1/posts", "created_at"),
    ("/v1/chain/events", "observed_at"),
    (f"/v1/chain/wallets/0x{'ab' * 20}/activity", "observed_at"),
]


def assert_refused(response: Any) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["errors"][0]["field"] == "query.cursor", body
    assert "cursor" in body["detail"]


@pytest.mark.parametrize(("path", "sort_field"), USER_LISTINGS)
def test_a_forged_cursor_is_400_on_every_listing(
    client: TestClient, user: Key, path: str, sort_field: str
) -> None:
    for cursor in forged(sort_field):
        separator = "&" if "?" in path else "?"
        response = client.get(f"{path}{separator}cursor={cursor}", headers=bearer(user[1]))
        assert_refused(response)


def test_a_forged_cursor_is_400_on_a_conversations_messages(client: TestClient, user: Key) -> None:
    posted = client.post(
        "/v1/conversations/threads/t-1/messages",
        params={"wait": "true"},
        json={"message_id": "m1", "text": "price of ETH"},
        headers=bearer(user[1]),
    )
    assert posted.status_code == 201, posted.text
    path = f"/v1/conversations/{posted.json()['id']}/messages"
    for cursor in forged("seq"):
        assert_refused(client.get(path, params={"cursor": cursor}, headers=bearer(user[1])))


ADMIN_LISTINGS = [("/v1/admin/events", {"category": "ticks"}), ("/v1/admin/dead-letters", {})]


@pytest.mark.parametrize(("path", "params"), ADMIN_LISTINGS)
def test_a_forged_cursor_is_400_on_the_admin_listings(
    client: TestClient, admin: Key, path: str, params: dict[str, str]
) -> None:
    for cursor in forged("position"):
        response = client.get(path, params={**params, "cursor": cursor}, headers=bearer(admin[1]))
        assert_refused(response)
