"""The event store's contract: what must hold on one Redis node and on a cluster alike."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from datetime import timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.codec import FIELDS, encode
from events.envelope import Event, RecordedEvent
from events.errors import BatchTooLargeError, InvalidEventError, WrongExpectedVersionError
from events.names import StreamNames
from events.position import Position
from events.redis_client import RedisClient
from events.store import MAX_BATCH, EventStore
from tests.factories import Pinged, Ponged, ReadingTaken, number, ping


async def collect(iterator: AsyncIterator[RecordedEvent]) -> list[Event]:
    return [recorded.event async for recorded in iterator]


def follow_closing(
    store: EventStore, streams: Sequence[str], **options: Any
) -> aclosing[AsyncGenerator[RecordedEvent, None]]:
    """`store.follow`, closed on leaving the block: that is what stops its readers."""
    return aclosing(store.follow(streams, **options))


def spread(names: StreamNames, count: int) -> list[Event]:
    """`count` pings whose keys cover every partition."""
    events = [ping(n, key=f"key-{n % 17}") for n in range(count)]
    assert {names.tag_for_key(event.key) for event in events} == set(names.partition_tags())
    return events


async def _after_every_reader_listens(
    store: EventStore, names: StreamNames, arrivals: asyncio.Queue[RecordedEvent]
) -> None:
    """Append a pong to each partition until one arrives from each: all readers listen."""
    key_of = {names.tag_for_key(f"probe-{n}"): f"probe-{n}" for n in range(64)}
    heard: set[str] = set()
    deadline = time.monotonic() + 10
    while heard != set(names.category_streams("pings")):
        assert time.monotonic() < deadline, f"readers heard so far: {heard}"
        for tag, key in key_of.items():
            if names.stream(tag, "pings") not in heard:
                await store.append("pings", Event(payload=Ponged(n=0), key=key))
        try:
            while True:
                recorded = await asyncio.wait_for(arrivals.get(), 0.1)
                assert recorded.event.type == "test.pong", "an old event was delivered"
                heard.add(recorded.stream)
        except TimeoutError:
            continue


class StoreContract:
    """What the event store guarantees on any Redis: subclass it with fixtures `store`, `names`
    and `redis` for each kind of server (one node, a cluster)."""

    async def test_appends_go_to_the_partition_of_the_key(
        self, store: EventStore, names: StreamNames
    ) -> None:
        result = await store.append("pings", ping(1, key="BTC/USDT"))
        assert result.stream == names.stream_for_key("pings", "BTC/USDT")
        assert not result.duplicate

    async def test_a_retried_append_returns_the_original_position_and_writes_nothing(
        self, store: EventStore, redis: RedisClient
    ) -> None:
        event = ping(1)
        first = await store.append("pings", event)
        again = await store.append("pings", event)
        assert again.position == first.position
        assert again.duplicate
        assert await redis.xlen(first.stream) == 1

    async def test_a_batch_keeps_input_order_and_drops_repeats(self, store: EventStore) -> None:
        events = [ping(n, key=f"key-{n % 3}") for n in range(30)]
        results = await store.append_batch("pings", [*events, events[4]])
        assert [r.duplicate for r in results] == [False] * 30 + [True]
        assert results[-1].position == results[4].position
        again = await store.append_batch("pings", events)
        assert [r.position for r in again] == [r.position for r in results[:30]]
        assert all(r.duplicate for r in again)

    async def test_a_batch_that_is_too_large_is_refused_before_anything_is_written(
        self, store: EventStore, redis: RedisClient, names: StreamNames
    ) -> None:
        with pytest.raises(BatchTooLargeError):
            await store.append_batch("pings", [ping(n) for n in range(MAX_BATCH + 1)])
        assert sum([await redis.xlen(s) for s in names.category_streams("pings")]) == 0

    async def test_bulk_loads_keep_order_and_are_idempotent(self, store: EventStore) -> None:
        events = [ping(n, key="one-key") for n in range(2500)]
        assert await store.append_many("pings", events, chunk=300, depth=3) == 2500
        assert await store.append_many("pings", [*events[:1000], ping(9999)], chunk=300) == 1
        read = await collect(store.read_category("pings"))
        assert [number(e) for e in read if e.key == "one-key"] == list(range(2500))

    async def test_expected_version_appends_follow_each_other(
        self, store: EventStore, names: StreamNames
    ) -> None:
        stream = names.stream("agg-1", "rule")
        await store.append_to_stream(
            stream, [ping(1, version=1), ping(2, version=2)], expected_version=0
        )
        await store.append_to_stream(stream, [ping(3, version=3)], expected_version=2)
        assert await store.stream_version(stream) == 3

    async def test_a_conflicting_batch_writes_nothing(
        self, store: EventStore, names: StreamNames, redis: RedisClient
    ) -> None:
        stream = names.stream("agg-1", "rule")
        await store.append_to_stream(stream, [ping(1, version=1)], expected_version=0)
        with pytest.raises(WrongExpectedVersionError) as conflict:
            await store.append_to_stream(
                stream, [ping(2, version=1), ping(3, version=2)], expected_version=0
            )
        assert (conflict.value.expected, conflict.value.actual) == (0, 1)
        assert await redis.xlen(stream) == 1
        assert await redis.hlen(names.dedup_index(stream)) == 1

    async def test_versions_must_follow_the_expected_version(
        self, store: EventStore, names: StreamNames
    ) -> None:
        stream = names.stream("agg-1", "rule")
        with pytest.raises(InvalidEventError, match="version must be 2"):
            await store.append_to_stream(
                stream, [ping(1, version=1), ping(2, version=3)], expected_version=0
            )
        assert await store.stream_version(stream) == 0

    async def test_a_retried_aggregate_append_is_not_a_conflict(
        self, store: EventStore, names: StreamNames
    ) -> None:
        stream = names.stream("agg-1", "rule")
        events = [ping(1, version=1)]
        first = await store.append_to_stream(stream, events, expected_version=0)
        again = await store.append_to_stream(stream, events, expected_version=0)
        assert again[0].position == first[0].position
        assert again[0].duplicate

    async def test_concurrent_writers_one_wins_each_version(
        self, store: EventStore, names: StreamNames
    ) -> None:
        stream = names.stream("agg-2", "rule")

        async def writer(n: int) -> int:
            wins = 0
            for _ in range(20):
                current = await store.stream_version(stream)
                try:
                    await store.append_to_stream(
                        stream, [ping(n, version=current + 1)], expected_version=current
                    )
                    wins += 1
                except WrongExpectedVersionError:
                    await asyncio.sleep(0)
            return wins

        wins = await asyncio.gather(*(writer(n) for n in range(8)))
        versions = [e.version for e in await collect(store.read_stream(stream))]
        assert versions == list(range(1, sum(wins) + 1))

    async def test_reads_by_position_range_forwards_and_backwards(self, store: EventStore) -> None:
        results = await store.append_batch("pings", [ping(n, key="same") for n in range(10)])
        stream = results[0].stream
        middle = await collect(
            store.read_stream(stream, start=results[2].position, end=results[5].position)
        )
        assert [number(e) for e in middle] == [2, 3, 4, 5]
        backwards = await collect(
            store.read_stream(stream, end=results[5].position, reverse=True, limit=3)
        )
        assert [number(e) for e in backwards] == [5, 4, 3]

    async def test_reads_page_through_long_streams(self, store: EventStore) -> None:
        await store.append_many("pings", [ping(n, key="same") for n in range(1200)])
        stream = store.names.stream_for_key("pings", "same")
        forwards = await collect(store.read_stream(stream, page=100))
        backwards = await collect(store.read_stream(stream, reverse=True, page=100))
        assert [number(e) for e in forwards] == list(range(1200))
        assert [number(e) for e in backwards] == list(reversed(range(1200)))

    async def test_reads_by_time_range(self, store: EventStore, redis: RedisClient) -> None:
        first = await store.append("pings", ping(1, key="same"))
        await asyncio.sleep(0.02)
        second = await store.append("pings", ping(2, key="same"))
        after_first = first.position.time + timedelta(milliseconds=1)
        read = await collect(store.read_stream(first.stream, start=after_first))
        assert [number(e) for e in read] == [2]
        until_first = await collect(store.read_stream(first.stream, end=first.position.time))
        assert [number(e) for e in until_first] == [1]
        assert second.position.time >= after_first

    async def test_reads_filter_by_type_and_correlation(self, store: EventStore) -> None:
        root = ping(1, key="same")
        reply = root.caused(Ponged(n=1))
        await store.append_batch("pings", [root, ping(2, key="same"), reply])
        stream = store.names.stream_for_key("pings", "same")
        pongs = await collect(store.read_stream(stream, types=["test.pong"]))
        assert pongs == [reply]
        chain = await collect(store.read_category("pings", correlation_id=root.correlation_id))
        assert chain == [root, reply]

    async def test_categories_read_merged_in_order(self, store: EventStore) -> None:
        """Partitions merge by append time: exact to the millisecond across partitions,
        exact within one partition (so within one key)."""
        for n in range(40):
            await store.append("pings", ping(n, key=f"key-{n}"))
            if n % 10 == 9:
                await asyncio.sleep(0.002)
        read = [r async for r in store.read_category("pings")]
        assert sorted(number(r.event) for r in read) == list(range(40))
        assert len({r.stream for r in read}) > 1
        times = [r.position.ms for r in read]
        assert times == sorted(times)
        for stream in {r.stream for r in read}:
            numbers = [number(r.event) for r in read if r.stream == stream]
            assert numbers == sorted(numbers)
        decades = [number(r.event) // 10 for r in read]
        assert decades == sorted(decades)
        backwards = [r async for r in store.read_category("pings", reverse=True, limit=5)]
        assert [r.position.ms for r in backwards] == sorted(
            (r.position.ms for r in backwards), reverse=True
        )
        assert {number(r.event) for r in backwards} <= set(range(30, 40))

    async def test_old_entries_are_upcast_when_read(
        self, store: EventStore, redis: RedisClient, names: StreamNames
    ) -> None:
        stream = names.stream("p0", "readings")
        values = encode(ping())
        values[1], values[2], values[8] = "test.reading", "1", orjson.dumps({"value": 4.0})
        await redis.xadd(stream, dict(zip(FIELDS, values, strict=True)))
        (event,) = await collect(store.read_stream(stream))
        assert event.payload == ReadingTaken(celsius=4.0, unit="C")

    async def test_the_position_of_a_stored_event_maps_to_when_it_was_stored(
        self, store: EventStore
    ) -> None:
        event = ping()
        result = await store.append("pings", event)
        assert abs((result.position.time - event.occurred_at).total_seconds()) < 5
        assert result.position > Position(0, 0)

    @settings(
        max_examples=40,
        deadline=None,
        # The store fixture is only a client (examples share it safely), and each
        # subclass runs this method on its own server: that is the point of a contract.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        n=st.integers(min_value=-(2**63), max_value=2**63 - 1),
        text=st.text(max_size=200),
        key=st.text(min_size=1, max_size=40),
    )
    async def test_whatever_is_appended_reads_back_identical(
        self, store: EventStore, n: int, text: str, key: str
    ) -> None:
        event = Event(payload=Pinged(n=n, text=text), key=key)
        result = await store.append("pings", event)
        (read,) = await collect(
            store.read_stream(result.stream, start=result.position, end=result.position)
        )
        assert read == event

    # -- following ---------------------------------------------------------------------

    async def test_follow_receives_new_events_of_every_partition(
        self, store: EventStore, names: StreamNames
    ) -> None:
        old = spread(names, 20)
        await store.append_batch("pings", old)
        streams = names.category_streams("pings")
        arrivals: asyncio.Queue[RecordedEvent] = asyncio.Queue()

        async def follow() -> None:
            async with follow_closing(store, streams, block_ms=100) as arrived:
                async for recorded in arrived:
                    await arrivals.put(recorded)

        following = asyncio.create_task(follow())
        try:
            await _after_every_reader_listens(store, names, arrivals)
            received: list[RecordedEvent] = []
            new = [ping(n, key=f"key-{n % 17}") for n in range(100, 160)]
            for start in range(0, len(new), 15):
                await store.append_batch("pings", new[start : start + 15])
            deadline = time.monotonic() + 10
            while len([r for r in received if r.event.type == "test.ping"]) < len(new):
                received.append(await asyncio.wait_for(arrivals.get(), deadline - time.monotonic()))
        finally:
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
        pings = [r for r in received if r.event.type == "test.ping"]
        assert sorted(number(r.event) for r in pings) == list(range(100, 160))
        for stream in streams:
            numbers = [number(r.event) for r in pings if r.stream == stream]
            assert numbers == sorted(numbers)
            assert numbers, stream

    async def test_follow_from_the_start_delivers_the_history_of_every_partition(
        self, store: EventStore, names: StreamNames
    ) -> None:
        history = spread(names, 40)
        await store.append_batch("pings", history)
        received: list[RecordedEvent] = []

        async def follow() -> None:
            streams = names.category_streams("pings")
            async with follow_closing(store, streams, from_start=True, block_ms=100) as arrived:
                async for recorded in arrived:
                    received.append(recorded)
                    if len(received) == len(history):
                        return

        await asyncio.wait_for(follow(), 5)  # closing it must not hang its readers either
        assert sorted(number(r.event) for r in received) == list(range(40))

    async def test_a_blocking_read_may_outlast_the_default_socket_timeout(
        self, store: EventStore, names: StreamNames
    ) -> None:
        """Blocks as long as settings allow (up to 60 s): redis-py's clients would otherwise
        time out after 5 s (and a cluster client retry for most of a minute)."""
        stream = names.stream_for_key("pings", "late")
        arrived: list[RecordedEvent] = []

        async def follow() -> None:
            async with follow_closing(store, [stream], block_ms=6000) as reader:
                async for recorded in reader:
                    arrived.append(recorded)
                    return

        following = asyncio.create_task(follow())
        await asyncio.sleep(5.3)
        await store.append("pings", ping(1, key="late"))
        await asyncio.wait_for(following, 3)
        assert [number(r.event) for r in arrived] == [1]
