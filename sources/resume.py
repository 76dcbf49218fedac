"""Where a restarted simulator picks up: the last price it recorded for each symbol.

The ticks stream is the record: the newest `price.tick` of the symbol on the venue, in
the symbol's partition, read backwards (filtered by type before decoding). Looking back
is bounded (`LOOKBACK` ticks of the partition per symbol): a symbol not found within it
starts from its start price, as on a first run.
"""

from __future__ import annotations

from events.catalog import PriceTick
from events.store import EventStore

LOOKBACK = 10_000


async def last_prices(store: EventStore, venue: str, symbols: tuple[str, ...]) -> dict[str, float]:
    """The latest recorded price of each of `symbols` on `venue` (those found)."""
    found: dict[str, float] = {}
    for symbol in symbols:
        stream = store.names.stream_for_key(PriceTick.category, symbol)
        async for recorded in store.read_stream(
            stream, reverse=True, types=[PriceTick.event_type], limit=LOOKBACK
        ):
            tick = recorded.event.payload
            if isinstance(tick, PriceTick) and tick.symbol == symbol and tick.venue == venue:
                found[symbol] = tick.price
                break
    return found
