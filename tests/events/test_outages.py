"""The one classifier of "a dependency is away": which one, and whether waiting helps;
and the two lines an outage is said in.

Workers wait out what `redis_unavailable` says; the API answers 503 for anything
`unavailable` finds (tests/api/test_outages.py runs that against real servers).
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError
from pymongo.errors import AutoReconnect, OperationFailure, ServerSelectionTimeoutError
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    BusyLoadingError,
    ClusterDownError,
    ReadOnlyError,
    RedisClusterUnreachableError,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from structlog.testing import capture_logs

from events.errors import InfrastructureError
from events.outages import (
    SETTLE_S,
    Outage,
    redis_unavailable,
    unavailable,
    unavailable_dependency,
)


def caused(outer: BaseException, cause: BaseException) -> BaseException:
    """`outer` raised from `cause` (``raise outer from cause``)."""
    outer.__cause__ = cause
    return outer


def during(outer: BaseException, context: BaseException) -> BaseException:
    """`outer` raised while handling `context` (in an ``except`` block)."""
    outer.__context__ = context
    return outer


REFUSED = RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

CASES: list[tuple[str, BaseException, str | None, str | None]] = [
    # (name, error, dependency, verdict)
    ("refused connection", REFUSED, "Redis", "away"),
    ("timeout", RedisTimeoutError("Timeout reading from socket"), "Redis", "away"),
    ("loading after a restart", BusyLoadingError("LOADING"), "Redis", "away"),
    ("cluster down", ClusterDownError("CLUSTERDOWN"), "Redis", "away"),
    ("slots moving", TryAgainError("TRYAGAIN"), "Redis", "away"),
    ("cluster unreachable", RedisClusterUnreachableError("no node"), "Redis", "away"),
    ("slot not covered", SlotNotCoveredError("slot 7"), "Redis", "away"),
    ("replica in a failover", ReadOnlyError("READONLY"), "Redis", "away"),
    ("no MongoDB server", ServerSelectionTimeoutError("no servers"), "MongoDB", "away"),
    ("MongoDB connection lost", AutoReconnect("reset"), "MongoDB", "away"),
    ("wrong password", AuthenticationError("invalid password"), "Redis", "refused"),
    ("ACL", AuthorizationError("NOPERM"), "Redis", "refused"),
    ("recorder, no cause", OperationalError("failed"), "Redis", "reported"),
    ("ours, no cause", InfrastructureError("x"), "a server it depends on", "reported"),
    ("recorder from Redis", caused(OperationalError("x"), REFUSED), "Redis", "away"),
    (
        "twice wrapped",
        caused(RuntimeError("loading a rule"), caused(OperationalError("x"), ReadOnlyError())),
        "Redis",
        "away",
    ),
    ("raised while handling", during(KeyError("k"), RedisTimeoutError()), "Redis", "away"),
    (
        "ours from MongoDB",
        caused(InfrastructureError("x"), ServerSelectionTimeoutError("none")),
        "MongoDB",
        "away",
    ),
    (
        "recorder from a refusal",
        caused(OperationalError("x"), AuthenticationError("invalid password")),
        "Redis",
        "refused",
    ),
    ("a bug", ValueError("a bug"), None, None),
    ("a bad command", ResponseError("ERR unknown command"), None, None),
    ("MongoDB refusing a query", OperationFailure("bad $op"), None, None),
    ("a bug wrapping a bug", caused(RuntimeError("x"), KeyError("y")), None, None),
]


@pytest.mark.parametrize(
    ("error", "dependency", "verdict"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_one_table_says_which_dependency_and_whether_to_wait(
    error: BaseException, dependency: str | None, verdict: str | None
) -> None:
    found = unavailable(error)
    if dependency is None:
        assert found is None
    else:
        assert found is not None
        assert (found.dependency, found.verdict) == (dependency, verdict)
    assert unavailable_dependency(error) == dependency
    assert redis_unavailable(error) == (dependency == "Redis" and verdict == "away")


def test_a_chain_that_loops_ends() -> None:
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert unavailable(first) is None


class Clock:
    """`time.monotonic` as the test sets it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time, "monotonic", fake)
    return fake


def said(logs: list[MutableMapping[str, Any]]) -> list[str]:
    return [str(line["event"]) for line in logs]


REFUSED = RedisConnectionError("Connect call failed")


def test_an_outage_is_said_once_each_way(clock: Clock) -> None:
    redis = Outage("Redis")
    with capture_logs() as logs:
        for _ in range(5):
            redis.failed(REFUSED)
            clock.now += 1
        redis.succeeded()
        redis.succeeded()
    assert said(logs) == ["Redis unavailable; waiting for it", "Redis is back"]
    assert logs[1]["down_for_s"] == 5.0


def test_a_call_in_flight_as_the_server_returns_is_not_another_outage(clock: Clock) -> None:
    redis = Outage("Redis")
    with capture_logs() as logs:
        redis.failed(REFUSED)
        clock.now += 3
        redis.succeeded()
        clock.now += 0.1
        redis.failed(REFUSED)  # another task's call, begun while Redis was still away
        clock.now += 0.1
        redis.succeeded()
    assert said(logs) == ["Redis unavailable; waiting for it", "Redis is back"]


def test_failures_that_go_on_after_a_return_are_said(clock: Clock) -> None:
    redis = Outage("Redis")
    with capture_logs() as logs:
        redis.failed(REFUSED)
        redis.succeeded()
        clock.now += 0.5
        for _ in range(5):
            redis.failed(REFUSED)
            clock.now += 1
        redis.succeeded()
    assert said(logs) == ["Redis unavailable; waiting for it", "Redis is back"] * 2


def test_an_outage_long_after_the_last_is_said_at_once(clock: Clock) -> None:
    redis = Outage("Redis")
    with capture_logs() as logs:
        redis.failed(REFUSED)
        redis.succeeded()
        clock.now += SETTLE_S
        redis.failed(REFUSED)
    assert said(logs) == [
        "Redis unavailable; waiting for it",
        "Redis is back",
        "Redis unavailable; waiting for it",
    ]
