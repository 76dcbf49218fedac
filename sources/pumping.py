"""What running any source comes to, for prices and posts alike: pump its batches into
the store until it ends, fails, or is asked to stop.

A batch being appended when the stop comes is let finish (one atomic script) and
counted, so the tally matches the store; unless Redis is away, in which case it is left
for the next run (ids are stable: nothing is written twice).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

import structlog

from events.errors import InfrastructureError

log = structlog.get_logger(__name__)

T = TypeVar("T")


async def pump(
    batches: AsyncIterator[Sequence[T]],
    deliver: Callable[[Sequence[T]], Awaitable[None]],
    after: Callable[[], None] | None = None,
) -> None:
    """`deliver` each non-empty batch in turn, then call `after` (progress)."""
    async with contextlib.aclosing(batches) as each:  # type: ignore[type-var]
        async for batch in each:
            if not batch:
                continue
            delivering = asyncio.ensure_future(deliver(batch))
            try:
                await asyncio.shield(delivering)
            except asyncio.CancelledError:
                try:
                    await delivering  # a batch in flight lands and is counted first
                except InfrastructureError as error:  # stopped while Redis is away
                    log.warning("stopped with a batch Redis did not take", error=str(error))
                raise
            if after is not None:
                after()


async def until_stopped(tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
    """Wait until `stop` is set or one of `tasks` ends; then cancel the others and raise
    the error that ended one, if any."""
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([*tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (*tasks, stopping):
            task.cancel()
        await asyncio.wait([*tasks, stopping])
    for task in tasks:
        if task in done:
            task.result()  # the error that ended it, if any
