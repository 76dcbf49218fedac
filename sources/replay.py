"""Replaying recorded prices from a CSV or JSON-lines file, at a chosen speed.

The whole file is checked before the first tick is yielded (every row parsed, times in
order), so a malformed file is refused with its line number and nothing of it is
appended. The check streams the file, and so does the replay: a large history is never
held in memory.

CSV needs a header naming at least a time column (``time`` or ``timestamp``), ``symbol``
and ``price``; ``venue`` and ``volume`` are optional, other columns are ignored. A JSON
line is an object with the same keys. Times are ISO-8601 (UTC when no offset is given)
or epoch seconds or milliseconds (a number of 10^11 or more is taken as milliseconds).

At speed S, a row stamped t seconds after the first one is appended t / S seconds after
the replay started; at speed ``max`` rows go out as fast as Redis takes them. Replaying
a file twice appends nothing the second time: tick ids derive from venue, symbol, time.
"""

from __future__ import annotations

import asyncio
import csv
import math
from collections.abc import AsyncGenerator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from events.catalog import PriceTick
from sources.clock import Clock, Sleep, real_sleep, utc_now
from sources.errors import ReplayFileError, SourceInputError

DEFAULT_VENUE = "replay"
CHUNK = 500
"""Ticks per append when rows are due together (and at speed max)."""
TIME_KEYS = ("time", "timestamp")
MILLISECONDS_FROM = 1e11
"""Epoch numbers this large are milliseconds: 1e11 seconds is the year 5138."""

Row = tuple[int, PriceTick]


def parse_speed(text: str) -> float | None:
    """A replay speed: ``max`` (None: no pacing) or a positive factor such as 1 or 10."""
    cleaned = text.strip().lower()
    if cleaned == "max":
        return None
    try:
        speed = float(cleaned.removesuffix("x"))
    except ValueError:
        speed = math.nan
    if not (math.isfinite(speed) and speed > 0):
        raise SourceInputError(f"invalid replay speed {text!r}: use a factor like 1 or 10, or max")
    return speed


class FileReplay:
    """Ticks from a price history file, paced by their recorded times."""

    name = "replay"
    simulated = False
    symbols: tuple[str, ...] = ()

    def __init__(
        self,
        path: Path,
        *,
        speed: float | None = None,
        venue: str = DEFAULT_VENUE,
        clock: Clock = utc_now,
        sleep: Sleep = real_sleep,
    ) -> None:
        self.path = path
        self.speed = speed
        self.venue = venue
        self.clock = clock
        self.sleep = sleep
        self.total: int | None = None

    async def open(self) -> None:
        """Check every row of the file; count them for the progress display."""
        self.total = await asyncio.to_thread(self._check_all)

    async def aclose(self) -> None:
        """Files are opened and closed per pass: nothing is held between them."""

    def _check_all(self) -> int:
        count = 0
        for _ in self._rows():
            count += 1
        if count == 0:
            raise ReplayFileError(self.path, "no price rows in the file")
        return count

    async def batches(self) -> AsyncGenerator[list[PriceTick], None]:
        started = self.clock()
        first: datetime | None = None
        batch: list[PriceTick] = []
        for _, tick in self._rows():
            first = first or tick.source_time
            if self.speed is not None:
                due_s = (tick.source_time - first).total_seconds() / self.speed
                wait_s = due_s - (self.clock() - started).total_seconds()
                if wait_s > 0:
                    if batch:
                        yield batch
                        batch = []
                    await self.sleep(wait_s)
            batch.append(tick)
            if len(batch) == CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch

    def _rows(self) -> Iterator[Row]:
        """Every row as a tick, in file order; raises on the first bad one."""
        previous: datetime | None = None
        for line, tick in self._parsed():
            if previous is not None and tick.source_time < previous:
                raise ReplayFileError(
                    self.path,
                    f"time {tick.source_time.isoformat()} is earlier than the row before it;"
                    " sort the file by time",
                    line=line,
                )
            previous = tick.source_time
            yield line, tick

    def _parsed(self) -> Iterator[Row]:
        suffix = self.path.suffix.lower()
        if suffix == ".csv":
            reader = self._csv_rows
        elif suffix in (".jsonl", ".ndjson"):
            reader = self._json_rows
        else:
            raise ReplayFileError(self.path, "unknown format: name it .csv, .jsonl or .ndjson")
        try:
            yield from reader()
        except OSError as error:
            raise ReplayFileError(self.path, f"cannot read: {error.strerror}") from None
        except UnicodeDecodeError:
            raise ReplayFileError(self.path, "not UTF-8 text") from None

    def _csv_rows(self) -> Iterator[Row]:
        with self.path.open(newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            header = [name.strip().lower() for name in reader.fieldnames or []]
            missing = _missing_columns(header)
            if missing:
                raise ReplayFileError(self.path, f"the header has no {missing} column", line=1)
            reader.fieldnames = header
            for record in reader:
                if None in record or None in record.values():
                    raise ReplayFileError(
                        self.path, "wrong number of fields for the header", line=reader.line_num
                    )
                yield reader.line_num, self._tick(record, reader.line_num)

    def _json_rows(self) -> Iterator[Row]:
        with self.path.open("rb") as file:
            for line, raw in enumerate(file, start=1):
                if not raw.strip():
                    continue
                try:
                    record = orjson.loads(raw)
                except orjson.JSONDecodeError as error:
                    message = f"not valid JSON: {error}"
                    raise ReplayFileError(self.path, message, line=line) from None
                if not isinstance(record, dict):
                    raise ReplayFileError(self.path, "expected a JSON object", line=line)
                missing = _missing_columns(list(record))
                if missing:
                    raise ReplayFileError(self.path, f"no {missing} field", line=line)
                yield line, self._tick(record, line)

    def _tick(self, record: dict[str, Any], line: int) -> PriceTick:
        raw_time = next(record[key] for key in TIME_KEYS if key in record)
        try:
            source_time = parse_time(raw_time)
        except ValueError as error:
            raise ReplayFileError(self.path, str(error), line=line) from None
        venue = record.get("venue") or self.venue
        volume = record.get("volume")
        try:
            return PriceTick(
                symbol=record["symbol"],
                venue=venue,
                price=record["price"],
                volume=0.0 if volume in (None, "") else volume,
                source_time=source_time,
            )
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ReplayFileError(self.path, f"{where}: {first['msg']}", line=line) from None


def _missing_columns(names: list[str]) -> str | None:
    if not any(key in names for key in TIME_KEYS):
        return "time (or timestamp)"
    for key in ("symbol", "price"):
        if key not in names:
            return key
    return None


def parse_time(value: Any) -> datetime:
    """An ISO-8601 time (UTC if naive) or epoch seconds / milliseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"invalid time {value!r}")
    number: float | None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    else:
        number = float(value)
    if number is not None:
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"invalid time {value!r}")
        seconds = number / 1000 if number >= MILLISECONDS_FROM else number
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"time {value!r} is out of range") from None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(
            f"invalid time {value!r}: expected ISO-8601 or epoch seconds or milliseconds"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
