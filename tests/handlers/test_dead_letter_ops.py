"""Retrying and discarding dead letters: back to the handler that failed, and only to it."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from events.envelope import RecordedEvent
from events.names import StreamNames
from events.store import EventStore
from handlers.dead_letter_ops import (
    DeadLetterId,
    DeadLetters,
    UnknownDeadLetterError,
    retry_stream,
)
from handlers.declaration import HandlerResult
from handlers.worker import Worker
from tests.factories import Pinged, number, ping
from tests.handlers.runtime_contract import declare, pong, stats
from tests.handlers.support import FAST, read_all, running
from tests.impressox.cli_support import Cli, cli_env, json_lines, run_cli
from tests.polling import wait_until


class Fussy:
    """Fails for ping 13 until fixed; counts what it handled."""

    def __init__(self) -> None:
        self.fixed = False
        self.handled: Counter[int] = Counter()

    async def handle(self, recorded: RecordedEvent) -> HandlerResult:
        payload = recorded.event.payload
        assert isinstance(payload, Pinged)
        if payload.n == 13 and not self.fixed:
            raise ValueError("13 is unlucky")
        self.handled[payload.n] += 1
        return await pong(recorded)


class Tally:
    """Another handler of the same category: must never see a retry meant for another."""

    def __init__(self) -> None:
        self.seen: Counter[int] = Counter()

    async def handle(self, recorded: RecordedEvent) -> HandlerResult:
        payload = recorded.event.payload
        assert isinstance(payload, Pinged)
        self.seen[payload.n] += 1
        return None


async def has_dead_letters(letters: DeadLetters, handler: str, count: int) -> bool:
    return len((await letters.page(handler)).items) >= count


async def _tallied(tally: Tally, count: int) -> bool:
    return sum(tally.seen.values()) >= count


async def test_a_retried_dead_letter_is_handled_once_by_its_handler_alone(
    store: EventStore,
) -> None:
    fussy, tally = Fussy(), Tally()
    fussy_spec, tally_spec = declare("fussy", fussy.handle), declare("tally", tally.handle)
    letters = DeadLetters(store)
    await store.append_batch("pings", [ping(n, key=f"k{n % 3}") for n in range(20)])
    async with running(Worker(fussy_spec, store, FAST)), running(Worker(tally_spec, store, FAST)):
        await wait_until(lambda: has_dead_letters(letters, "fussy", 1))
        await wait_until(lambda: _tallied(tally, 20))
        (letter,) = (await letters.page()).items
        assert (letter.handler, letter.error_type, letter.error) == (
            "fussy",
            "ValueError",
            "13 is unlucky",
        )
        assert (letter.original_type, letter.deliveries) == ("test.ping", FAST.max_deliveries)
        assert letter.stream == store.names.stream_for_key("pings", "k1")
        fussy.fixed = True
        assert await letters.retry("fussy", [letter.id]) == 1
        await wait_until(lambda: _handled(fussy, 13))
        with pytest.raises(UnknownDeadLetterError, match="no dead letter"):
            await letters.retry("fussy", [letter.id])  # moved already: not twice
        await store.append("pings", ping(99))  # later work still flows after the retry
        await wait_until(lambda: _handled(fussy, 99))
    assert fussy.handled[13] == 1
    assert set(fussy.handled.values()) == {1}
    assert sorted(number(e) for e in await read_all(store, "pongs")) == [*range(20), 99]
    assert tally.seen[13] == 1, "another handler of the category saw the retry"
    assert (await letters.page()).items == []
    assert (await stats(store, "fussy"))["retried"] == 1


async def _handled(fussy: Fussy, n: int) -> bool:
    return fussy.handled[n] >= 1


async def test_discard_removes_dead_letters_and_counts_them(store: EventStore) -> None:
    fussy = Fussy()
    letters = DeadLetters(store)
    await store.append_batch("pings", [ping(13, key=f"k{k}") for k in range(6)])
    async with running(Worker(declare("fussy", fussy.handle), store, FAST)):
        await wait_until(lambda: has_dead_letters(letters, "fussy", 6))
    found = (await letters.page("fussy")).items
    assert await letters.discard("fussy", [found[0].id, found[1].id, found[0].id]) == 2
    assert [x.id for x in (await letters.page("fussy")).items] == [x.id for x in found[2:]]
    assert (await stats(store, "fussy"))["discarded"] == 2
    with pytest.raises(UnknownDeadLetterError, match=str(found[0].id)):
        await letters.discard("fussy", [found[0].id, found[2].id])
    assert len((await letters.page("fussy")).items) == 4, "a refused discard deletes nothing"


async def test_retry_all_moves_every_partition_and_pages_list_in_order(
    store: EventStore, names: StreamNames
) -> None:
    fussy = Fussy()
    letters = DeadLetters(store)
    await store.append_batch("pings", [ping(13, key=f"k{k}") for k in range(12)])
    async with running(Worker(declare("fussy", fussy.handle), store, FAST)):
        await wait_until(lambda: has_dead_letters(letters, "fussy", 12))
        seen: list[DeadLetterId] = []
        cursor = None
        while True:
            page = await letters.page(cursor=cursor, limit=5)
            seen += [letter.id for letter in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert len(seen) == len(set(seen)) == 12
        assert len({letter_id.tag for letter_id in seen}) > 1
        fussy.fixed = True
        assert await letters.retry("fussy") == 12
        await wait_until(lambda: _handled(fussy, 13))
        await wait_until(lambda: _pongs(store, 12))
    assert fussy.handled[13] == 12
    assert await letters.retry("fussy") == 0


async def _pongs(store: EventStore, count: int) -> bool:
    return len(await read_all(store, "pongs")) >= count


@pytest.mark.parametrize(
    "raw", ["13", "p1:1-0", "p1/abc", "P1/1-0", f"p1/{2**64}-0", "p1/1-0/x", "/1-0"]
)
def test_malformed_ids_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="invalid dead letter id"):
        DeadLetterId.parse(raw)


def test_ids_round_trip() -> None:
    parsed = DeadLetterId.parse("app.users/1732182312345-7")
    assert (parsed.tag, str(parsed.position), str(parsed)) == (
        "app.users",
        "1732182312345-7",
        "app.users/1732182312345-7",
    )


async def test_a_bad_cursor_is_refused(store: EventStore) -> None:
    with pytest.raises(ValueError, match="invalid cursor"):
        await DeadLetters(store).page(cursor="nonsense")


@pytest.fixture
def cli(redis_url: str, prefix: str, tmp_path: Path) -> Cli:
    env = cli_env(tmp_path, REDIS_URL=redis_url, IMPRESSOX_STREAM_PREFIX=prefix)
    return lambda *args, stdin="": run_cli(env, *args, stdin=stdin)


async def test_the_cli_lists_retries_and_discards(cli: Cli, store: EventStore) -> None:
    fussy = Fussy()
    letters = DeadLetters(store)
    await store.append_batch("pings", [ping(13, key=f"k{k}") for k in range(3)])
    async with running(Worker(declare("fussy", fussy.handle), store, FAST)):
        await wait_until(lambda: has_dead_letters(letters, "fussy", 3))
    listed = await asyncio.to_thread(cli, "events", "dead-letters", "list", "--json")
    items = json_lines(listed.stdout)
    assert [(i["handler"], i["original_type"], i["error"]) for i in items] == [
        ("fussy", "test.ping", "13 is unlucky")
    ] * 3
    assert all(i["correlation_id"] and i["deliveries"] == FAST.max_deliveries for i in items)
    first_page = await asyncio.to_thread(cli, "events", "dead-letters", "list", "--limit", "2")
    assert "fussy" in first_page.stdout
    shown = first_page.stdout.splitlines()
    assert [item["id"] for item in items[:2]] == [line for line in shown if line[:1] == "p"]
    assert first_page.stderr.startswith("more: pass --cursor fussy/")

    discarded = await asyncio.to_thread(
        cli, "events", "dead-letters", "discard", "fussy", "--id", items[0]["id"]
    )
    assert json.loads(discarded.stdout) == {"handler": "fussy", "discarded": 1}
    retried = await asyncio.to_thread(cli, "events", "dead-letters", "retry", "fussy", "--all")
    assert json.loads(retried.stdout) == {"handler": "fussy", "retried": 2}
    assert (await letters.page()).items == []
    retry_streams = [retry_stream(store.names, tag, "fussy") for tag in ("p0", "p1", "p2", "p3")]
    assert sum([await store.redis.xlen(stream) for stream in retry_streams]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["retry", "fussy"], "error: give --id ID (repeatable) or --all"),
        (
            ["retry", "fussy", "--all", "--id", "p0/1-0"],
            "error: give --id ID (repeatable) or --all",
        ),
        (["retry", "fussy", "--id", "1-0"], "error: invalid dead letter id '1-0'"),
        (["retry", "fussy", "--id", "p0/1-0"], "error: handler 'fussy' has no dead letter p0/1-0"),
        (["discard", "fussy"], "error: give the dead letters to discard"),
        (["discard", "Fussy!", "--id", "p0/1-0"], "error: invalid handler name 'Fussy!'"),
        (["list", "--cursor", "nonsense"], "error: invalid cursor"),
    ],
)
def test_bad_dead_letter_commands_exit_2_with_one_line(
    cli: Cli, args: list[str], message: str
) -> None:
    result = cli("events", "dead-letters", *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1
