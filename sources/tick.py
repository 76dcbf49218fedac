"""Turning an observed price into an event whose id is the observation itself.

The id is a UUIDv5 of (venue, symbol, source time): a source that restarts and reports
a price it reported before, a replay run twice, or a poll that sees an unchanged ticker
produces the same id, and the store keeps the first copy only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid5

from pydantic import TypeAdapter, ValidationError

from events.catalog import PriceTick, Symbol
from events.envelope import Event

TICK_ID_NAMESPACE = UUID("3b0f8d5e-6c1a-4f7e-8a2b-9d4c5e6f7a81")
"""Fixed forever: changing it would let every source duplicate what it wrote before."""


def tick_id(venue: str, symbol: str, source_time: datetime) -> UUID:
    """The idempotency key of one observation, the same in every process and release."""
    moment = source_time.astimezone(UTC).isoformat(timespec="microseconds")
    return uuid5(TICK_ID_NAMESPACE, f"{venue}|{symbol}|{moment}")


def tick_event(tick: PriceTick) -> Event:
    """The `price.tick` event of `tick`, keyed by its symbol, occurring at its source time."""
    return Event(
        event_id=tick_id(tick.venue, tick.symbol, tick.source_time),
        key=tick.partition_key(),
        occurred_at=tick.source_time,
        payload=tick,
    )


_SYMBOL = TypeAdapter(Symbol)


def is_symbol(text: str) -> bool:
    """Whether `text` is a symbol ticks can carry (BASE/QUOTE in capitals)."""
    try:
        _SYMBOL.validate_python(text)
    except ValidationError:
        return False
    return True
