"""The rules handler in the real runtime: ticks in, alerts out, firings on the record.

Rules are created through the real AlertRules service (the eventsourcing application on
Redis); the handler learns them from the rules' log, evaluates appended ticks, and the
`rule-firings` handler records each firing on its rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

import rules.recorder  # noqa: F401 - registers rule-firings
from aggregates.alert_rule import AlertRule
from aggregates.services.bundle import Services
from events.catalog import AlertTriggered, PriceTick, SourceStale
from events.envelope import Event
from events.names import StreamNames
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.worker import Worker
from impressox.settings import Settings
from rules.handler import GROUP, STALE_CONDITION
from rules.rule_book import SNAPSHOT_TAG, RuleBook
from rules.snapshots import load_snapshot
from tests.contexts import Contexts
from tests.handlers.support import FAST, read_all, running, wait_until
from tests.readside import isolated_settings

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(prefix: str, redis_url: str, tmp_path: Path) -> Settings:
    return isolated_settings(prefix, tmp_path, redis_url=redis_url)


@pytest.fixture
def owner(services: Services) -> UUID:
    return services.users.register("trader")


def tick(price: float, second: int, symbol: str = "BTC/USDT") -> Event:
    payload = PriceTick(
        symbol=symbol,
        venue="binance",
        price=price,
        volume=1.0,
        source_time=START + timedelta(seconds=second),
    )
    return Event(key=symbol, payload=payload)


def rule(symbol: str, condition: dict[str, Any], frequency: str = "once") -> dict[str, Any]:
    return {
        "target": {"kind": "symbol", "symbol": symbol},
        "condition": condition,
        "frequency": {"kind": frequency} | ({"cooldown_s": 0} if frequency == "every_time" else {}),
        "channels": ["web"],
    }


def worker(name: str, contexts: Contexts, settings: Settings) -> Worker:
    return Worker(HANDLERS.get(name), contexts.store, FAST, contexts.handler(name, settings))


async def alerts(store: EventStore) -> list[AlertTriggered]:
    found = []
    for event in await read_all(store, "alerts"):
        assert isinstance(event.payload, AlertTriggered)
        found.append(event.payload)
    return found


@pytest.fixture
async def engines(store: EventStore, contexts: Contexts, settings: Settings) -> AsyncIterator[None]:
    async with (
        running(worker(GROUP, contexts, settings)),
        running(worker("rule-firings", contexts, settings)),
    ):
        yield


async def test_a_once_rule_fires_once_and_its_firing_is_on_the_record(
    store: EventStore, contexts: Contexts, settings: Settings, services: Services, owner: UUID
) -> None:
    above = services.alert_rules.create(
        owner, rule("BTC/USDT", {"type": "above", "threshold": 100})
    )
    crossing = services.alert_rules.create(
        owner, rule("BTC/USDT", {"type": "crosses_down", "threshold": 90}, "every_time")
    )
    other = services.alert_rules.create(owner, rule("ETH/USDT", {"type": "below", "threshold": 1}))
    async with (
        running(worker(GROUP, contexts, settings)),
        running(worker("rule-firings", contexts, settings)),
    ):
        await store.append_batch(
            "ticks", [tick(95, 0), tick(101, 1), tick(102, 2), tick(89, 3), tick(91, 4)]
        )
        await store.append("ticks", tick(2000, 5, "ETH/USDT"))

        async def two_alerts_recorded() -> bool:
            fired: AlertRule = await asyncio.to_thread(services.alert_rules.load, above)
            crossed: AlertRule = await asyncio.to_thread(services.alert_rules.load, crossing)
            return fired.status == "completed" and crossed.trigger_count == 1

        await wait_until(two_alerts_recorded)
    found = await alerts(store)
    assert sorted((a.rule_id, a.triggered_at) for a in found) == sorted(
        [(above, START + timedelta(seconds=1)), (crossing, START + timedelta(seconds=3))]
    )
    first = next(a for a in found if a.rule_id == above)
    assert first.user_id == owner
    assert first.subject == "BTC/USDT"
    assert first.values["price"] == 101
    assert "BTC/USDT" in first.message
    assert first.channels == ("web",)
    assert other not in {a.rule_id for a in found}


async def test_rules_created_while_running_are_evaluated_from_the_next_tick(
    store: EventStore, settings: Settings, services: Services, owner: UUID, engines: None
) -> None:
    await store.append("ticks", tick(50, 0))
    await wait_until(lambda: _tracked(store))  # the engine started before the rule
    created = await asyncio.to_thread(
        services.alert_rules.create, owner, rule("BTC/USDT", {"type": "above", "threshold": 60})
    )
    await asyncio.sleep(0.3)  # the book follows the log with a blocking read
    await store.append("ticks", tick(70, 1))

    async def fired() -> bool:
        return [a.rule_id for a in await alerts(store)] == [created]

    await wait_until(fired)


async def test_a_restart_neither_repeats_a_firing_nor_forgets_the_previous_price(
    store: EventStore, contexts: Contexts, settings: Settings, services: Services, owner: UUID
) -> None:
    once = services.alert_rules.create(owner, rule("BTC/USDT", {"type": "above", "threshold": 100}))
    crossing = services.alert_rules.create(
        owner, rule("BTC/USDT", {"type": "crosses_up", "threshold": 110}, "every_time")
    )
    async with running(worker(GROUP, contexts, settings)):  # no recorder: nothing on the record
        await store.append_batch("ticks", [tick(105, 0)])

        async def fired_once() -> bool:
            return len(await alerts(store)) == 1

        await wait_until(fired_once)
    # A fresh process: it must learn the firing from the alert, and 105 from the ticks.
    async with running(worker(GROUP, contexts, settings)):
        await store.append_batch("ticks", [tick(106, 1), tick(111, 2)])

        async def crossed() -> bool:
            return len(await alerts(store)) == 2

        await wait_until(crossed)
        await asyncio.sleep(0.3)
    found = await alerts(store)
    assert [(a.rule_id, a.triggered_at) for a in found] == [
        (once, START),
        (crossing, START + timedelta(seconds=2)),
    ]


async def test_a_snapshot_plus_the_log_after_it_gives_the_same_rules(
    store: EventStore, settings: Settings, services: Services, owner: UUID
) -> None:
    ids = [
        services.alert_rules.create(owner, rule("SOL/USDT", {"type": "above", "threshold": 10 + n}))
        for n in range(5)
    ]
    first = RuleBook(store, services.alert_rules, settings.rules_snapshot_s)
    await first.ready()
    await first.save()
    services.alert_rules.pause(ids[0])
    services.alert_rules.delete(ids[1])
    later = services.alert_rules.create(owner, rule("SOL/USDT", {"type": "below", "threshold": 1}))
    snapshot = await load_snapshot(store.redis, store.names, SNAPSHOT_TAG)
    assert snapshot is not None
    assert {UUID(row[0]) for row in snapshot.rows} == set(ids)

    from_snapshot, from_scratch = (
        RuleBook(store, services.alert_rules, settings.rules_snapshot_s),
        RuleBook(store, services.alert_rules, settings.rules_snapshot_s),
    )
    await from_snapshot.ready()
    await store.redis.delete(f"{store.names.prefix}:{{{SNAPSHOT_TAG}}}:rules:snapshot")
    await from_scratch.ready()
    try:
        # Snapshot rows are validated when needed: here only those the log's tail changed.
        assert set(from_snapshot.rules) == {ids[0], later}
        restored, rebuilt = every_rule(from_snapshot), every_rule(from_scratch)
        assert restored == rebuilt
        assert set(restored) == {ids[0], *ids[2:], later}
        assert restored[ids[0]].status == "paused"
    finally:
        for book in (first, from_snapshot, from_scratch):
            await book.close()


def every_rule(book: RuleBook) -> dict[UUID, Any]:
    tags = book.store.names.partition_tags()
    return {
        rule_id: state for tag in tags for rule_id, state in book.rules_of_partition(tag).items()
    }


async def _tracked(store: EventStore, group: str = GROUP) -> bool:
    """Whether `group` committed anything in BTC/USDT's partition."""
    names: StreamNames = store.names
    tag = names.tag_for_key("BTC/USDT")
    return bool(await store.redis.hlen(names.tracking(tag, group)))


async def test_a_silent_source_is_announced_to_the_rules_on_its_symbol(
    store: EventStore, settings: Settings, services: Services, owner: UUID, engines: None
) -> None:
    watching = await asyncio.to_thread(
        services.alert_rules.create, owner, rule("BTC/USDT", {"type": "above", "threshold": 1e6})
    )
    elsewhere = await asyncio.to_thread(
        services.alert_rules.create, owner, rule("ETH/USDT", {"type": "above", "threshold": 1e6})
    )
    stale = SourceStale(
        source="exchange",
        venue="binance",
        symbol="BTC/USDT",
        silent_since=START,
        stale_after_s=60,
        at=START + timedelta(seconds=75),
    )
    await store.append("ticks", Event(key="BTC/USDT", payload=stale))

    async def announced() -> bool:
        return bool(await alerts(store))

    await wait_until(announced)
    await asyncio.sleep(0.3)
    (notice,) = await alerts(store)
    assert notice.rule_id == watching != elsewhere
    assert notice.condition == STALE_CONDITION
    assert "75 s" in notice.message
    await wait_until(lambda: _tracked(store, "rule-firings"))  # the recorder saw it
    recorded: AlertRule = await asyncio.to_thread(services.alert_rules.load, watching)
    assert recorded.trigger_count == 0  # a notice, not a firing
