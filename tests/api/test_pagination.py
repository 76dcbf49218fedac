"""Cursors as values: what the API gives out comes back typed, and only to its listing."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from api.pagination import decode_cursor, encode_cursor
from api.problems import BadParameterError


@pytest.mark.parametrize("value", [None, 7, -(2**63), 2.5, "BTC/USDT", "$regex"], ids=repr)
def test_a_cursor_given_out_comes_back_as_it_was(value: Any) -> None:
    assert decode_cursor(encode_cursor("f", value, "id-1"), "f") == (value, "id-1")


def test_a_time_comes_back_as_a_time_and_only_to_its_listing() -> None:
    moment = datetime(2025, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert decode_cursor(encode_cursor("at", moment, "x"), "at") == (moment, "x")
    with pytest.raises(BadParameterError):
        decode_cursor(encode_cursor("at", moment, "x"), "created_at")


@pytest.mark.parametrize(
    ("sort_field", "value"), [("created_at", "zzz"), ("created_at", 7), ("symbol", 7), ("seq", "7")]
)
def test_a_value_of_another_kind_than_the_listings_is_refused(sort_field: str, value: Any) -> None:
    """Issue 13: ``["created_at", "s", "zzz", id]`` was taken as a cursor of rules."""
    forged = encode_cursor("any", value, "x").encode()  # a field of no listing: any kind
    raw = base64.urlsafe_b64decode(forged + b"=" * (-len(forged) % 4)).replace(
        b'"any"', b'"%s"' % sort_field.encode()
    )
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with pytest.raises(BadParameterError, match="pass back a next_cursor unchanged"):
        decode_cursor(cursor, sort_field)
