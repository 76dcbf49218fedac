"""Running one price source until it ends, fails, or is asked to stop.

1. Open the source (it checks its configuration and raises `SourceInputError` if wrong),
   and record what this run reports (`source.started` per symbol): rules on symbols no
   source covers tell their owners so.
2. Pump its batches into the publisher; meanwhile, look for silent symbols every
   `check_interval` seconds and record each silence once.
3. Stop when the source runs out, raises, or `stop` is set (SIGTERM, Ctrl-C): the pump
   is cancelled, but a batch being appended is let finish (one atomic script) and is
   counted, so the tally matches the store; unless Redis is away: then it is left for
   the next run. Should the process die mid-append instead, the batch is either stored
   whole or not at all, and ticks have stable ids: the next run writes what is missing
   without duplicates.
4. Record that the run stopped reporting its symbols (`source.stopped`; within
   `WITHDRAW_TIMEOUT_S`: a stop never hangs on it), and close the source whatever
   happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from events.errors import InfrastructureError
from events.store import EventStore
from sources.clock import Clock, Sleep, real_sleep, utc_now
from sources.publisher import SourceStatus, TickPublisher
from sources.pumping import pump, until_stopped
from sources.source import PriceSource

log = structlog.get_logger(__name__)

Observer = Callable[[PriceSource, SourceStatus], None]
"""Called after every batch (progress bars, status lines)."""

MAX_CHECK_INTERVAL_S = 5.0
WITHDRAW_TIMEOUT_S = 5.0


async def run_source(
    source: PriceSource,
    store: EventStore,
    *,
    stop: asyncio.Event,
    stale_after_s: float | None = None,
    clock: Clock = utc_now,
    sleep: Sleep = real_sleep,
    observer: Observer | None = None,
) -> SourceStatus:
    """Run `source` into the ticks category; returns what it produced."""
    publisher = TickPublisher(
        store, source.name, stale_after_s=stale_after_s, clock=clock, stop=stop
    )
    try:
        await source.open()
        publisher.expect(source.venue, source.symbols)
        await publisher.announce(source.venue, source.symbols, simulated=source.simulated)
        log.info(
            "price source running",
            source=source.name,
            venue=source.venue,
            symbols=list(source.symbols),
            simulated=source.simulated,
        )
        progress = None if observer is None else lambda: observer(source, publisher.status)
        tasks = [asyncio.create_task(pump(source.batches(), publisher.publish, progress))]
        if stale_after_s:
            interval = min(stale_after_s / 4, MAX_CHECK_INTERVAL_S)
            tasks.append(asyncio.create_task(_watch(publisher, interval, sleep)))
        await until_stopped(tasks, stop)
    finally:
        await _withdraw(publisher)
        await source.aclose()
    status = publisher.status
    log.info(
        "price source stopped",
        source=source.name,
        ticks=status.ticks,
        new=status.new,
        duplicates=status.duplicates,
    )
    return status


async def _watch(publisher: TickPublisher, interval: float, sleep: Sleep) -> None:
    while True:
        await sleep(interval)
        await publisher.check_staleness()


async def _withdraw(publisher: TickPublisher) -> None:
    """Record the end of the run's coverage; if Redis is out of reach, say so and go on
    (the symbols' prices then grow old, which rules read as a silent source)."""
    try:
        await asyncio.wait_for(publisher.withdraw(), WITHDRAW_TIMEOUT_S)
    except (InfrastructureError, TimeoutError) as error:
        log.warning("source coverage not withdrawn", source=publisher.source, error=str(error))
