"""The runtime's contract: what must hold on one Redis node and on a cluster alike."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import replace

import pytest

from events.codec import encode
from events.envelope import Event, RecordedEvent
from events.names import StreamNames
from events.redis_client import RedisClient, text
from events.store import EventStore
from handlers.commit import Committer, Outcome
from handlers.dead_letters import EntryDeadLettered
from handlers.declaration import (
    HandlerFunction,
    HandlerRegistry,
    HandlerResult,
    HandlerSpec,
    Output,
    handler,
)
from handlers.worker import Worker
from tests.factories import Pinged, Ponged, number, ping
from tests.handlers.support import FAST, drain, pending_count, read_all, running, wait_until


def declare(name: str, function: HandlerFunction) -> HandlerSpec:
    """Declare `function` as a handler of pings, in a registry of the test's own."""
    registry = HandlerRegistry()
    handler(name, categories=["pings"], types=[Pinged], registry=registry)(function)
    return registry.get(name)


def dead_letter_of(event: Event) -> EntryDeadLettered:
    assert isinstance(event.payload, EntryDeadLettered), event.type
    return event.payload


async def pong(recorded: RecordedEvent) -> HandlerResult:
    payload = recorded.event.payload
    assert isinstance(payload, Pinged)
    return [Output("pongs", recorded.event.caused(Ponged(n=payload.n)))]


async def stats(store: EventStore, group: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for tag in store.names.partition_tags():
        for field, value in (await store.redis.hgetall(store.names.stats(tag, group))).items():
            totals[text(field)] += int(value)
    return dict(totals)


async def _count(store: EventStore, category: str, expected: int) -> bool:
    return len(await read_all(store, category)) >= expected


async def _split(first: Worker, second: Worker) -> bool:
    return len(first.owned) == 2 and len(second.owned) == 2


async def _processed(store: EventStore, group: str, expected: int) -> bool:
    return (await stats(store, group)).get("processed", 0) >= expected


async def _has_stalled(stalled: list[int]) -> bool:
    return bool(stalled)


async def _never(tag: str) -> bool:
    return False


@pytest.mark.parametrize("bad", ["Bad Name", "x" * 70])
def test_handler_names_must_make_clean_keys(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid handler name"):
        handler(bad, categories=["pings"], registry=HandlerRegistry())


class RuntimeContract:
    """What the runtime guarantees on any Redis: subclass it with fixtures `store`, `names`
    and `redis` for each kind of server (one node, a cluster)."""

    async def test_each_input_gets_one_output_in_its_partition(
        self, store: EventStore, names: StreamNames
    ) -> None:
        inputs = [ping(n, key=f"key-{n % 7}") for n in range(200)]
        await store.append_batch("pings", inputs)
        await drain(Worker(declare("ponger", pong), store, FAST))
        outputs = [r async for r in store.read_category("pongs")]
        by_cause = {r.event.causation_id: r for r in outputs}
        assert set(by_cause) == {event.event_id for event in inputs}
        for event in inputs:
            produced = by_cause[event.event_id]
            assert names.tag_of(produced.stream) == names.tag_of(
                names.stream_for_key("pings", event.key)
            )
            assert produced.event.correlation_id == event.correlation_id
        assert await pending_count(store, names, "pings", "ponger") == 0
        assert (await stats(store, "ponger"))["processed"] == 200

    async def test_a_drained_worker_stops_when_everything_is_handled(
        self, store: EventStore, names: StreamNames
    ) -> None:
        """Drain mode (arq's burst): the worker returns by itself, with nothing left."""
        await store.append_batch("pings", [ping(n, key=f"key-{n}") for n in range(50)])
        worker = Worker(declare("drainer", pong), store, FAST)
        await drain(worker)
        assert await worker.drained()
        assert len(await read_all(store, "pongs")) == 50
        assert await pending_count(store, names, "pings", "drainer") == 0
        assert worker.owned == []  # its partitions were handed back on the way out

    async def test_order_per_key_is_kept_with_two_workers(
        self, store: EventStore, names: StreamNames
    ) -> None:
        seen: dict[str, list[int]] = defaultdict(list)

        async def record(recorded: RecordedEvent) -> HandlerResult:
            payload = recorded.event.payload
            assert isinstance(payload, Pinged)
            seen[recorded.event.key].append(payload.n)
            await asyncio.sleep(0)
            return None

        spec = declare("recorder", record)
        async with (
            running(Worker(spec, store, FAST)) as first,
            running(Worker(spec, store, FAST)) as second,
        ):
            await wait_until(lambda: _split(first, second))
            assert sorted(first.owned + second.owned) == names.partition_tags()
            for n in range(400):
                await store.append("pings", ping(n, key=f"key-{n % 5}"))
            await wait_until(lambda: _processed(store, "recorder", 400))
        for key, numbers in seen.items():
            assert numbers == sorted(numbers), key
        assert sum(len(numbers) for numbers in seen.values()) == 400

    async def test_failed_attempts_are_retried(self, store: EventStore) -> None:
        attempts: dict[int, int] = defaultdict(int)

        async def flaky(recorded: RecordedEvent) -> HandlerResult:
            payload = recorded.event.payload
            assert isinstance(payload, Pinged)
            attempts[payload.n] += 1
            if attempts[payload.n] == 1:
                raise ConnectionError("the far side blinked")
            return await pong(recorded)

        await store.append_batch("pings", [ping(n) for n in range(20)])
        async with running(Worker(declare("flaky", flaky), store, FAST)):
            await wait_until(lambda: _count(store, "pongs", 20))
        assert set(attempts.values()) == {2}
        assert len(await read_all(store, "pongs")) == 20
        assert (await stats(store, "flaky"))["failed"] == 20

    async def test_a_poison_event_is_dead_lettered_while_the_rest_proceed(
        self, store: EventStore, names: StreamNames
    ) -> None:
        async def picky(recorded: RecordedEvent) -> HandlerResult:
            payload = recorded.event.payload
            assert isinstance(payload, Pinged)
            if payload.n == 13:
                raise ValueError("13 is unlucky")
            return await pong(recorded)

        poison = ping(13, key="same")
        await store.append_batch("pings", [ping(n, key="same") for n in range(13)] + [poison])
        await store.append_batch("pings", [ping(n, key="same") for n in range(14, 30)])
        async with running(Worker(declare("picky", picky), store, FAST)):
            await wait_until(lambda: _count(store, "pongs", 29))
            await wait_until(lambda: _count(store, "dead.picky", 1))
        pongs = [number(e) for e in await read_all(store, "pongs")]
        assert pongs == [n for n in range(30) if n != 13]
        (letter,) = await read_all(store, "dead.picky")
        assert isinstance(letter.payload, EntryDeadLettered)
        assert letter.payload.error_type == "ValueError"
        assert letter.payload.error == "13 is unlucky"
        assert letter.payload.deliveries == FAST.max_deliveries
        assert letter.payload.entry["event_id"] == str(poison.event_id)
        assert letter.causation_id == poison.event_id
        assert letter.correlation_id == poison.correlation_id
        assert await pending_count(store, names, "pings", "picky") == 0
        assert (await stats(store, "picky"))["dead_lettered"] == 1

    async def test_an_entry_that_does_not_decode_is_dead_lettered_at_once(
        self, store: EventStore, redis: RedisClient, names: StreamNames
    ) -> None:
        stream = names.stream_for_key("pings", "same")
        await redis.xadd(stream, {"hello": "not an event"})
        await store.append("pings", ping(1, key="same"))
        async with running(Worker(declare("strict", pong), store, FAST)):
            await wait_until(lambda: _count(store, "pongs", 1))
            await wait_until(lambda: _count(store, "dead.strict", 1))
        (letter,) = await read_all(store, "dead.strict")
        assert isinstance(letter.payload, EntryDeadLettered)
        assert letter.payload.error_type == "InvalidEventError"
        assert letter.payload.deliveries == 1
        assert letter.payload.entry == {"hello": "not an event"}

    async def test_events_of_other_types_are_acknowledged_without_the_handler(
        self, store: EventStore, names: StreamNames
    ) -> None:
        calls: list[str] = []

        async def only_pings(recorded: RecordedEvent) -> HandlerResult:
            calls.append(recorded.event.type)
            return None

        await store.append_batch("pings", [ping(1), ping(2).caused(Ponged(n=2))])
        async with running(Worker(declare("only", only_pings), store, FAST)):
            await wait_until(lambda: _processed(store, "only", 2))
        assert calls == ["test.ping"]
        assert await pending_count(store, names, "pings", "only") == 0

    async def test_a_handler_that_takes_too_long_fails_with_the_reason(
        self, store: EventStore
    ) -> None:
        async def stuck(recorded: RecordedEvent) -> HandlerResult:
            await asyncio.sleep(10)
            return None

        await store.append("pings", ping(1))
        impatient = replace(FAST, handler_timeout_s=0.05)
        async with running(Worker(declare("stuck", stuck), store, impatient)):
            await wait_until(lambda: _count(store, "dead.stuck", 1))
        (letter,) = await read_all(store, "dead.stuck")
        assert dead_letter_of(letter).error_type == "TimeoutError"
        assert (
            dead_letter_of(letter).error == "no result within 0.05s (IMPRESSOX_HANDLER_TIMEOUT_S)"
        )

    async def test_a_handler_returning_something_else_fails_clearly(
        self, store: EventStore
    ) -> None:
        async def confused(recorded: RecordedEvent) -> HandlerResult:
            return ["not an output"]  # type: ignore[list-item]

        await store.append("pings", ping(1))
        async with running(Worker(declare("confused", confused), store, FAST)):
            await wait_until(lambda: _count(store, "dead.confused", 1))
        (letter,) = await read_all(store, "dead.confused")
        assert dead_letter_of(letter).error_type == "TypeError"
        assert "expected Output" in dead_letter_of(letter).error

    async def test_entries_already_tracked_are_acknowledged_without_effect(
        self, store: EventStore, redis: RedisClient, names: StreamNames
    ) -> None:
        results = await store.append_batch("pings", [ping(n, key="same") for n in range(10)])
        stream = results[0].stream
        tag = names.tag_of(stream)
        spec = declare("tracked", pong)
        worker = Worker(spec, store, FAST)
        await worker.ensure_groups()
        # As if an earlier commit had covered the first six entries but its XACK were lost.
        await redis.hset(names.tracking(tag, "tracked"), stream, str(results[5].position))
        async with running(worker):
            await wait_until(lambda: _processed(store, "tracked", 4))
        assert [number(e) for e in await read_all(store, "pongs")] == [6, 7, 8, 9]
        assert (await stats(store, "tracked"))["duplicates"] == 6
        assert await pending_count(store, names, "pings", "tracked") == 0

    async def test_a_repeated_commit_writes_nothing_twice(
        self, store: EventStore, redis: RedisClient, names: StreamNames
    ) -> None:
        result = await store.append("pings", ping(1, key="same"))
        tag = names.tag_of(result.stream)
        await redis.xgroup_create(result.stream, "twice", "0")
        await redis.xreadgroup("twice", "me", {result.stream: ">"})
        await redis.set(names.lease(tag, "twice"), "me")
        output = (names.stream(tag, "pongs"), encode(ping(1).caused(Ponged(n=1))))
        outcome = Outcome(result.stream, str(result.position).encode(), "ok", (output,))
        committer = Committer(redis, names, "twice", tag)
        first = await committer.commit("me", [outcome], failed=0)
        second = await committer.commit("me", [outcome], failed=0)
        assert (first.processed, first.duplicates) == (1, 0)
        assert (second.processed, second.duplicates) == (0, 1)
        assert await redis.xlen(names.stream(tag, "pongs")) == 1

    async def test_a_dead_consumers_entries_are_reclaimed(
        self, store: EventStore, redis: RedisClient, names: StreamNames
    ) -> None:
        await store.append_batch("pings", [ping(n, key="same") for n in range(5)])
        stream = names.stream_for_key("pings", "same")
        tag = names.tag_of(stream)
        spec = declare("reclaim", pong)
        await Worker(spec, store, FAST).ensure_groups()
        # A consumer took the partition, read everything, and died without acknowledging.
        await redis.set(names.lease(tag, "reclaim"), "ghost", px=FAST.lease_ttl_ms)
        await redis.xreadgroup("reclaim", "ghost", {stream: ">"})
        assert await pending_count(store, names, "pings", "reclaim") == 5
        async with running(Worker(spec, store, FAST)):
            await wait_until(lambda: _count(store, "pongs", 5))
        assert [number(e) for e in await read_all(store, "pongs")] == [0, 1, 2, 3, 4]
        assert await pending_count(store, names, "pings", "reclaim") == 0

    async def test_an_entry_that_keeps_killing_consumers_is_dead_lettered(
        self, store: EventStore, redis: RedisClient, names: StreamNames
    ) -> None:
        called: list[int] = []

        async def never_reached(recorded: RecordedEvent) -> HandlerResult:
            called.append(1)
            return None

        await store.append("pings", ping(1, key="same"))
        stream = names.stream_for_key("pings", "same")
        spec = declare("killer", never_reached)
        await Worker(spec, store, FAST).ensure_groups()
        # Three consumers in a row took the entry and died while handling it.
        await redis.xreadgroup("killer", "ghost", {stream: ">"})
        for _ in range(FAST.max_deliveries - 1):
            await redis.xreadgroup("killer", "ghost", {stream: "0"})
        async with running(Worker(spec, store, FAST)):
            await wait_until(lambda: _count(store, "dead.killer", 1))
        (letter,) = await read_all(store, "dead.killer")
        assert dead_letter_of(letter).error_type == "DeliveryLimitReached"
        assert dead_letter_of(letter).deliveries == FAST.max_deliveries
        assert called == []

    async def test_a_stalled_consumer_cannot_commit_after_losing_its_lease(
        self, store: EventStore, names: StreamNames
    ) -> None:
        release = asyncio.Event()
        stalled_once: list[int] = []

        async def stall_first_time(recorded: RecordedEvent) -> HandlerResult:
            if not stalled_once:
                stalled_once.append(1)
                await release.wait()
            return await pong(recorded)

        await store.append("pings", ping(1, key="same"))
        spec = declare("fenced", stall_first_time)
        config = FAST
        async with running(Worker(spec, store, config)) as zombie:
            await wait_until(lambda: _has_stalled(stalled_once))
            # The zombie's leases lapse (as if its process were frozen), a successor takes over.
            for tag in zombie.owned:
                await store.redis.delete(names.lease(tag, "fenced"))
            await store.redis.delete(names.members("fenced"))
            zombie.membership.claim = _never  # type: ignore[method-assign]
            async with running(Worker(spec, store, config)):
                await wait_until(lambda: _count(store, "pongs", 1))
                release.set()
                await asyncio.sleep(0.5)
        assert len(await read_all(store, "pongs")) == 1

    async def test_shutdown_finishes_the_batch_and_hands_partitions_back(
        self, store: EventStore, redis: RedisClient, names: StreamNames
    ) -> None:
        started = asyncio.Event()

        async def slow(recorded: RecordedEvent) -> HandlerResult:
            started.set()
            await asyncio.sleep(0.3)
            return await pong(recorded)

        await store.append_batch("pings", [ping(n, key="same") for n in range(3)])
        worker = Worker(declare("slow", slow), store, FAST)
        async with running(worker):
            await started.wait()
        assert len(await read_all(store, "pongs")) == 3
        assert await redis.zcard(names.members("slow")) == 0
        for tag in names.partition_tags():
            assert not await redis.exists(names.lease(tag, "slow"))
        assert await pending_count(store, names, "pings", "slow") == 0

    async def test_a_handler_of_two_categories_reads_both_streams_of_each_partition(
        self, store: EventStore, names: StreamNames
    ) -> None:
        """One XREADGROUP per partition names two streams: they share the partition's slot."""
        seen: list[tuple[str, int]] = []

        async def both(recorded: RecordedEvent) -> HandlerResult:
            seen.append((names.parse(recorded.stream)[1], number(recorded.event)))
            return None

        registry = HandlerRegistry()
        handler("both", categories=["pings", "pongs"], registry=registry)(both)
        await store.append_batch("pings", [ping(n, key=f"key-{n}") for n in range(40)])
        await store.append_batch(
            "pongs", [Event(payload=Ponged(n=n), key=f"key-{n}") for n in range(40)]
        )
        async with running(Worker(registry.get("both"), store, FAST)):
            await wait_until(lambda: _processed(store, "both", 80))
        assert sorted(seen) == sorted((c, n) for c in ("pings", "pongs") for n in range(40))
        for category in ("pings", "pongs"):
            assert await pending_count(store, names, category, "both") == 0
