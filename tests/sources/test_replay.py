"""Replaying CSV and JSON-lines history: parsing, refusals with line numbers, pacing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from events.store import EventStore
from sources.errors import ReplayFileError, SourceInputError
from sources.replay import CHUNK, FileReplay, parse_speed, parse_time
from sources.runner import run_source
from tests.sources.source_contract import SourceContract
from tests.sources.support import FakeClock, stored_ticks, take

CSV = """time,symbol,price,volume,venue
2026-01-01T00:00:00Z,BTC/USDT,100000.5,1.5,binance
2026-01-01T00:00:01Z,ETH/USDT,3500.25,,binance
2026-01-01T00:00:03Z,BTC/USDT,100010,0.25,
2026-01-01T00:00:07Z,BTC/USDT,100020,2,binance
"""

JSONL = """{"timestamp": 1767225600, "symbol": "BTC/USD", "price": 100000}
{"timestamp": 1767225600500, "symbol": "BTC/USD", "price": 100001.5, "volume": 0.1}

{"timestamp": "2026-01-01T00:00:02", "symbol": "SOL/USD", "price": 180, "venue": "kraken"}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return write(tmp_path, "history.csv", CSV)


class TestReplayContract(SourceContract):
    @pytest.fixture(autouse=True)
    def _file(self, tmp_path: Path) -> None:
        rows = "\n".join(
            f"{1767225600 + n},{symbol},{100 + n}"
            for n in range(12)
            for symbol in ("BTC/USDT", "ETH/USDT")
        )
        self.path = write(tmp_path, "contract.csv", "time,symbol,price\n" + rows + "\n")

    def create_source(self) -> FileReplay:
        clock = FakeClock()
        return FileReplay(self.path, speed=1.0, clock=clock, sleep=clock.sleep)

    def rewind(self) -> None:
        """Each source starts on its own clock from the same moment: nothing moved on."""


async def test_csv_rows_become_ticks_with_defaults(history: Path) -> None:
    batches = await take(FileReplay(history, speed=None), 10)
    ticks = [tick for batch in batches for tick in batch]
    assert [(t.symbol, t.price, t.volume, t.venue) for t in ticks] == [
        ("BTC/USDT", 100000.5, 1.5, "binance"),
        ("ETH/USDT", 3500.25, 0.0, "binance"),
        ("BTC/USDT", 100010.0, 0.25, "replay"),
        ("BTC/USDT", 100020.0, 2.0, "binance"),
    ]
    assert ticks[0].source_time == datetime(2026, 1, 1, tzinfo=UTC)
    assert not any(t.simulated for t in ticks)


async def test_jsonl_takes_epoch_seconds_milliseconds_and_naive_iso(tmp_path: Path) -> None:
    replay = FileReplay(write(tmp_path, "h.jsonl", JSONL), speed=None, venue="archive")
    ticks = [tick for batch in await take(replay, 10) for tick in batch]
    assert [t.source_time.isoformat() for t in ticks] == [
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:00:00.500000+00:00",
        "2026-01-01T00:00:02+00:00",
    ]
    assert [t.venue for t in ticks] == ["archive", "archive", "kraken"]
    assert replay.total == 3


async def test_pacing_follows_the_recorded_gaps_divided_by_the_speed(history: Path) -> None:
    clock = FakeClock()
    batches = await take(FileReplay(history, speed=10, clock=clock, sleep=clock.sleep), 10)
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.4])
    assert [len(batch) for batch in batches] == [1, 1, 1, 1]


async def test_rows_due_together_go_out_together_and_a_late_replay_catches_up(
    tmp_path: Path,
) -> None:
    rows = "".join(f"{1767225600 + n // 3},S{n % 3}X/USD,{100 + n}\n" for n in range(9))
    path = write(tmp_path, "h.csv", "timestamp,symbol,price\n" + rows)
    clock = FakeClock()
    batches = await take(FileReplay(path, speed=1, clock=clock, sleep=clock.sleep), 10)
    assert [len(batch) for batch in batches] == [3, 3, 3]
    assert clock.sleeps == [1.0, 1.0]


async def test_max_speed_never_sleeps_and_appends_in_chunks(tmp_path: Path) -> None:
    count = CHUNK * 2 + 7
    rows = "".join(f"{1767225600 + n},BTC/USDT,{100 + n}\n" for n in range(count))
    clock = FakeClock()
    replay = FileReplay(
        write(tmp_path, "big.csv", "time,symbol,price\n" + rows),
        speed=None,
        clock=clock,
        sleep=clock.sleep,
    )
    batches = await take(replay, 100)
    assert [len(batch) for batch in batches] == [CHUNK, CHUNK, 7]
    assert clock.sleeps == []


async def test_replaying_a_file_twice_appends_it_once(history: Path, store: EventStore) -> None:
    first = await run_source(FileReplay(history), store, stop=asyncio.Event())
    again = await run_source(FileReplay(history), store, stop=asyncio.Event())
    assert (first.new, first.duplicates) == (4, 0)
    assert (again.new, again.duplicates) == (0, 4)
    assert len(await stored_ticks(store)) == 4


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.csv", "symbol,price\nBTC/USDT,1\n", "line 1: the header has no time"),
        ("a.csv", "time,symbol\n1767225600,BTC/USDT\n", "line 1: the header has no price"),
        (
            "a.csv",
            "time,symbol,price\n1767225600,BTC/USDT,1\n1767225601,BTC/USDT,abc\n",
            "line 3: price: Input should be a valid number",
        ),
        (
            "a.csv",
            "time,symbol,price\n1767225600,BTC/USDT,1\n1767225601,btc,2\n",
            "line 3: symbol: String should match pattern",
        ),
        (
            "a.csv",
            "time,symbol,price\n1767225600,BTC/USDT,1\n1767225601,BTC/USDT\n",
            "line 3: wrong number of fields",
        ),
        (
            "a.csv",
            "time,symbol,price\n1767225600,BTC/USDT,1\nyesterday,BTC/USDT,2\n",
            "line 3: invalid time 'yesterday'",
        ),
        (
            "a.csv",
            "time,symbol,price\n1767225600,BTC/USDT,1\n1767225500,BTC/USDT,2\n",
            "line 3: time 2025-12-31T23:58:20\\+00:00 is earlier",
        ),
        (
            "a.csv",
            "time,symbol,price\n1767225600,BTC/USDT,-5\n",
            "line 2: price: Input should be greater than 0",
        ),
        ("a.jsonl", '{"time": 1767225600, "symbol": "BTC/USDT", "price": 1}\n{oops\n', "line 2"),
        ("a.jsonl", "[1, 2]\n", "line 1: expected a JSON object"),
        ("a.jsonl", '{"time": 1767225600, "price": 1}\n', "line 1: no symbol field"),
        ("a.csv", "time,symbol,price\n", "no price rows"),
        ("a.txt", "time,symbol,price\n", "unknown format"),
    ],
)
async def test_a_malformed_file_is_refused_with_its_line_before_anything_is_appended(
    tmp_path: Path, store: EventStore, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ReplayFileError, match=message) as caught:
        await run_source(FileReplay(path, speed=None), store, stop=asyncio.Event())
    assert str(caught.value).startswith(str(path))
    assert await stored_ticks(store) == []


async def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReplayFileError, match="cannot read: No such file"):
        await FileReplay(tmp_path / "nope.csv").open()


@pytest.mark.parametrize(
    ("text", "speed"), [("1", 1.0), ("10", 10.0), ("10x", 10.0), ("0.5", 0.5), ("max", None)]
)
def test_speeds(text: str, speed: float | None) -> None:
    assert parse_speed(text) == speed


@pytest.mark.parametrize("text", ["0", "-1", "fast", "inf", "nan"])
def test_bad_speeds_are_refused(text: str) -> None:
    with pytest.raises(SourceInputError, match="invalid replay speed"):
        parse_speed(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1767225600, "2026-01-01T00:00:00+00:00"),
        ("1767225600.25", "2026-01-01T00:00:00.250000+00:00"),
        (1767225600123, "2026-01-01T00:00:00.123000+00:00"),
        ("2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00+00:00"),
    ],
)
def test_time_forms(value: object, expected: str) -> None:
    assert parse_time(value).astimezone(UTC).isoformat() == expected
