"""Helpers for runtime tests: fast settings, running workers in-process, waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from events.envelope import Event
from events.names import StreamNames
from events.store import EventStore
from handlers.config import RuntimeConfig
from handlers.worker import Worker

FAST = RuntimeConfig(
    batch_size=50,
    block_ms=100,
    max_deliveries=3,
    retry_backoff_ms=5,
    retry_backoff_max_ms=20,
    handler_timeout_s=5,
    lease_ttl_ms=1000,
    shutdown_timeout_s=5,
)
"""Short timings so takeovers and retries happen within a test."""


@asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[Worker]:
    """Run a worker for the duration of the block, then stop it gracefully."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def drain(worker: Worker, within: float = 30.0) -> None:
    """Run `worker` in drain mode: until it has handled everything in its streams."""
    await asyncio.wait_for(worker.run(asyncio.Event(), drain=True), within)


async def wait_until(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    """Poll `check` until it holds; fail the test with a clear message otherwise."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met within {within}s: {check.__qualname__}")


async def read_all(store: EventStore, category: str) -> list[Event]:
    """Every event of a category, merged across partitions."""
    return [recorded.event async for recorded in store.read_category(category)]


async def pending_count(store: EventStore, names: StreamNames, category: str, group: str) -> int:
    """Entries delivered to `group` but not acknowledged, over all partitions."""
    total = 0
    for stream in names.category_streams(category):
        if await store.redis.exists(stream):
            info = await store.redis.xpending(stream, group)
            total += int(info["pending"])
    return total
