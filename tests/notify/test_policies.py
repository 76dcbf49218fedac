"""Retry delays, how a server's requested wait is read, and the rate limiter."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from redis.asyncio import Redis

from handlers.token_bucket import TokenBucket
from notify.http_delivery import retry_after_s
from notify.retry import RetryPolicy

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def test_the_backoff_ceiling_doubles_up_to_its_maximum() -> None:
    policy = RetryPolicy(backoff_s=0.5, backoff_max_s=3.0, jitter=lambda ceiling: ceiling)
    assert [policy.delay_s(n, None) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]


def test_full_jitter_draws_below_the_ceiling() -> None:
    policy = RetryPolicy(backoff_s=1.0, backoff_max_s=8.0)
    assert all(0 <= policy.delay_s(3, None) <= 4.0 for _ in range(200))


def test_a_requested_wait_is_never_cut_short() -> None:
    policy = RetryPolicy(backoff_s=0.5, jitter=lambda ceiling: ceiling)
    assert policy.delay_s(1, 7.0) == 7.0
    assert policy.delay_s(1, 0.1) == 0.5


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "12"}, None, 12.0),
        ({"Retry-After": "Wed, 01 Jan 2025 12:00:30 GMT"}, None, 30.0),
        ({"Retry-After": "Wed, 01 Jan 2025 11:00:00 GMT"}, None, 0.0),
        ({"Retry-After": "soon"}, None, None),
        ({"Retry-After": "2"}, {"retry_after": 1.25}, 1.25),
        ({}, None, None),
    ],
)
def test_retry_after(headers: dict[str, str], body: object, expected: float | None) -> None:
    response = (
        httpx.Response(429, headers=headers, json=body)
        if body
        else httpx.Response(429, headers=headers)
    )
    assert retry_after_s(response, NOW) == expected


async def test_the_token_bucket_allows_a_burst_then_says_how_long_to_wait(
    redis: Redis, prefix: str
) -> None:
    bucket = TokenBucket(redis, per_minute=60, burst=2)
    key = f"{prefix}:ratelimit:test"
    first, second, third = [await bucket.take(key) for _ in range(3)]
    assert (first.allowed, second.allowed, third.allowed) == (True, True, False)
    assert 0 < third.wait_ms <= 1000  # one token a second
    assert await redis.pttl(key) > 0  # an idle bucket expires


async def test_a_zero_rate_is_unlimited(redis: Redis, prefix: str) -> None:
    bucket = TokenBucket(redis, per_minute=0, burst=1)
    assert all([(await bucket.take(f"{prefix}:ratelimit:x")).allowed for _ in range(5)])
