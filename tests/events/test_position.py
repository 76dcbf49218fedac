from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.position import Position


def test_positions_parse_and_print_as_stream_ids() -> None:
    assert Position.parse(b"1700000000000-3") == Position(1700000000000, 3)
    assert str(Position(5, 0)) == "5-0"
    assert Position.parse("42") == Position(42, 0)


def test_positions_order_like_the_stream() -> None:
    assert Position(1, 9) < Position(2, 0) < Position(2, 1)


def test_positions_map_to_times() -> None:
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert Position.at_time(moment).time == moment
    assert Position.end_of_time(moment).ms == Position.at_time(moment).ms


def test_garbage_is_refused() -> None:
    with pytest.raises(ValueError, match="not a stream position"):
        Position.parse("yesterday")
