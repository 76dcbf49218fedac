"""Waiting for what happens elsewhere (a worker, a projector, another process).

One deadline loop with two faces: `wait_until` for async tests (it yields to the event
loop between checks, so the workers the test runs keep working) and `eventually` for
sync code (TestClient, threads, subprocesses). Both fail the test with one message naming
the check; both return the check's first truthy result, so a test can use what it waited for.

The default deadlines are long (a passing wait returns as soon as its check holds, so they
cost nothing then): the suite runs in four processes on CI's two cores, where a catch-up
that takes one second alone has taken twenty.

Where a test waits for handlers to finish a known input, `tests.handlers.support.drain`
runs them to the end instead of polling.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


class Deadline:
    """When a wait gives up, and the failure it gives up with."""

    def __init__(self, within: float) -> None:
        self.within = within
        self.end = time.monotonic() + within

    def passed(self) -> bool:
        return time.monotonic() > self.end

    def failure(self, check: Callable[[], object]) -> AssertionError:
        name = getattr(check, "__qualname__", repr(check))
        return AssertionError(f"condition not met within {self.within}s: {name}")


async def wait_until(
    check: Callable[[], Awaitable[Any]], within: float = 60.0, interval: float = 0.05
) -> Any:
    """Await `check` until it returns something truthy, and return that."""
    deadline = Deadline(within)
    while True:
        result = await check()
        if result:
            return result
        if deadline.passed():
            raise deadline.failure(check)
        await asyncio.sleep(interval)


def eventually(check: Callable[[], Any], within: float = 30.0, interval: float = 0.02) -> Any:
    """Call `check` until it returns something truthy, and return that (blocks the thread)."""
    deadline = Deadline(within)
    while True:
        result = check()
        if result:
            return result
        if deadline.passed():
            raise deadline.failure(check)
        time.sleep(interval)
