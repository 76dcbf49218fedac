"""Appending a source's ticks to the ticks category, and keeping its tally.

Ticks become events with stable ids (`sources.tick`), appended in atomic batches to the
partition of their symbol. A batch that is retried, or a source that restarts and sees
the same prices again, writes nothing new: the store drops events it holds already, and
the tally counts them as duplicates. That is also what lets an append wait through a
Redis outage and try again: the source is held back meanwhile, and nothing is lost. A
source stopped during an outage stops without its last batch, which its next run writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import structlog
from redis.exceptions import RedisError

from events.catalog import PriceTick, SourceStarted, SourceStopped
from events.envelope import Event
from events.errors import InfrastructureError
from events.outages import through_redis_outage
from events.store import MAX_BATCH, EventStore
from sources.clock import Clock, utc_now
from sources.staleness import StalenessWatch
from sources.tick import tick_event

log = structlog.get_logger(__name__)

CATEGORY = PriceTick.category
COVERAGE_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/source-coverage")
"""Coverage events have ids derived from (run, symbol, kind): a retried append is a no-op."""


@dataclass
class SourceStatus:
    """What a source produced so far, for status lines and progress bars."""

    ticks: int = 0
    new: int = 0
    duplicates: int = 0
    stale_events: int = 0
    last: dict[str, PriceTick] = field(default_factory=dict)
    """The latest tick of each symbol."""
    stale: list[str] = field(default_factory=list)
    """Symbols silent past the limit right now."""


class TickPublisher:
    """Appends ticks (and stale notices) for one source, counting what was new."""

    def __init__(
        self,
        store: EventStore,
        source: str,
        *,
        stale_after_s: float | None = None,
        clock: Clock = utc_now,
        stop: asyncio.Event | None = None,
    ) -> None:
        self.store = store
        self.source = source
        self.clock = clock
        self.stop = stop
        """Set when the source is stopping: an append then no longer waits for Redis."""
        self.watch = StalenessWatch(source, stale_after_s) if stale_after_s else None
        self.status = SourceStatus()
        self.run_id: UUID = uuid4()
        self._announced: list[SourceStarted] = []

    def expect(self, venue: str, symbols: tuple[str, ...]) -> None:
        """Symbols the source should report: silence about them is noticed from now on."""
        if self.watch is not None:
            self.watch.expect(venue, symbols, self.clock())

    async def announce(self, venue: str, symbols: tuple[str, ...], *, simulated: bool) -> None:
        """Record that this run reports `symbols` on `venue`: one `source.started` each,
        so a rule on a symbol no source covers can say so (see `withdraw`)."""
        self._announced = [
            SourceStarted(
                source=self.source,
                venue=venue,
                symbol=symbol,
                run_id=self.run_id,
                simulated=simulated,
            )
            for symbol in symbols
        ]
        await self._append([_coverage_event(started) for started in self._announced])

    async def withdraw(self) -> None:
        """Record that this run stopped reporting what it announced."""
        stopped = [
            SourceStopped(
                source=started.source,
                venue=started.venue,
                symbol=started.symbol,
                run_id=started.run_id,
            )
            for started in self._announced
        ]
        self._announced = []
        if stopped:
            await self._append([_coverage_event(payload) for payload in stopped])

    async def publish(self, ticks: Sequence[PriceTick]) -> None:
        """Append `ticks` in atomic batches; a batch already stored is counted, not kept."""
        now = self.clock()
        for tick in ticks:
            self.status.last[tick.symbol] = tick
            if self.watch is not None:
                self.watch.observed(tick, now)
        events = [tick_event(tick) for tick in ticks]
        new = await self._append(events)
        self.status.ticks += len(events)
        self.status.new += new
        self.status.duplicates += len(events) - new
        self._refresh_stale()

    async def check_staleness(self) -> int:
        """Append a `source.stale` event for each silence that just reached the limit."""
        if self.watch is None:
            return 0
        events = self.watch.due(self.clock())
        if events:
            await self._append(events)
            self.status.stale_events += len(events)
        self._refresh_stale()
        return len(events)

    async def _append(self, events: list[Event]) -> int:
        new = 0
        try:
            for start in range(0, len(events), MAX_BATCH):
                chunk = events[start : start + MAX_BATCH]
                results = await through_redis_outage(
                    partial(self.store.append_batch, CATEGORY, chunk), self.stop
                )
                new += sum(not result.duplicate for result in results)
        except RedisError as error:
            raise InfrastructureError(f"cannot append ticks to Redis: {error}") from error
        return new

    def _refresh_stale(self) -> None:
        if self.watch is not None:
            self.status.stale = self.watch.stale_symbols()


def _coverage_event(payload: SourceStarted | SourceStopped) -> Event:
    name = f"{payload.run_id}|{payload.symbol}|{payload.event_type}"
    return Event(
        event_id=uuid5(COVERAGE_NAMESPACE, name), key=payload.partition_key(), payload=payload
    )
