"""Cursors as values: what the API gives out comes back typed, and only to its listing."""

from __future__ import annotations

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
