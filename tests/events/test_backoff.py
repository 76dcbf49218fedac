"""The one backoff: its ceilings, its three jitters, and tenacity driving it."""

from __future__ import annotations

import pytest
from tenacity import AsyncRetrying, stop_after_attempt

from events.backoff import Backoff


@pytest.mark.parametrize(
    ("backoff", "ceilings"),
    [
        (Backoff(0.1, 2.0), [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]),  # outages
        (Backoff(1.0, 10.0), [1.0, 2.0, 4.0, 8.0, 10.0]),  # the keeper's restarts
        (Backoff(0.05), [0.05, 0.1, 0.2, 0.4]),  # no ceiling
        (Backoff(0.2, 0.0), [0.0, 0.0]),  # a ceiling of 0: never waits
    ],
    ids=repr,
)
def test_without_jitter_the_delay_is_the_ceiling(backoff: Backoff, ceilings: list[float]) -> None:
    assert [backoff.delay_s(n) for n in range(1, len(ceilings) + 1)] == ceilings


@pytest.mark.parametrize(("jitter", "low"), [("half", 0.5), ("full", 0.0)])
def test_jitter_draws_below_the_ceiling(jitter: str, low: float) -> None:
    backoff = Backoff(1.0, 8.0, jitter)  # type: ignore[arg-type]
    for attempt, ceiling in [(1, 1.0), (3, 4.0), (9, 8.0)]:
        delays = [backoff.delay_s(attempt) for _ in range(300)]
        assert all(low * ceiling <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1, "jittered"


def test_next_delay_counts_failures_until_reset() -> None:
    backoff = Backoff(1.0, 4.0)
    assert [backoff.next_delay() for _ in range(4)] == [1.0, 2.0, 4.0, 4.0]
    assert backoff.failures == 4
    backoff.reset()
    assert backoff.next_delay() == 1.0


async def test_tenacity_retries_with_the_same_waits() -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise ConnectionError("away")
        return "ok"

    retrying = AsyncRetrying(wait=Backoff(0.5, 1.0).wait, stop=stop_after_attempt(5), sleep=record)
    assert await retrying(flaky) == "ok"
    assert waits == [0.5, 1.0, 1.0]
