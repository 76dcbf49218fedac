"""`impressox events ...`: append, read, tail and inspect streams from the shell."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bots.health import health_json, read_health
from events.catalog import CatalogPayload
from events.codec import from_json_object, to_json_object
from events.envelope import Event, RecordedEvent
from events.errors import InvalidEventError, RegistryError
from events.names import StreamNames, check_category
from events.position import Position
from events.store import MAX_BATCH, Bound, EventStore
from handlers.dead_letter_ops import DeadLetterId, DeadLetters, check_handler
from handlers.monitoring import StreamStatus, system_status
from impressox.cli.common import fail, redis_for, run, settings_from
from impressox.cli.status_view import print_bots, print_streams, print_summary
from impressox.modules import load_handlers
from impressox.settings import Settings

app = typer.Typer(help="Append, read, tail and inspect event streams.", no_args_is_help=True)
dead_letters = typer.Typer(
    help="Entries handlers gave up on: list them, retry them (to their handler alone),"
    " discard them.",
    no_args_is_help=True,
)
app.add_typer(dead_letters, name="dead-letters")

PROGRESS_STEP = 20_000
"""Events per progress update of a large append (each is several atomic chunks)."""

_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)$")
_UNITS = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

TargetArg = Annotated[
    str, typer.Argument(help="A category (all its partitions) or one stream (ix:{p0}:ticks).")
]


@app.command()
def append(
    ctx: typer.Context,
    category: Annotated[str, typer.Argument(help="Category to append to, e.g. ticks.")],
    file: Annotated[
        Path | None, typer.Argument(help="JSON lines or a JSON array; stdin when omitted or -.")
    ] = None,
) -> None:
    """Append events given as JSON; all are validated before any is written.

    Each event needs `type`, `key` and `payload`; `event_id` makes a retried append
    safe (an event already stored is not stored again).
    """
    settings = settings_from(ctx)
    _load_modules(settings)
    try:
        check_category(category)
    except ValueError as error:
        fail(str(error))
    text = sys.stdin.read() if file is None or str(file) == "-" else _read_file(file)
    events = _parse_events(text)
    if not events:
        fail("no events in the input")
    run(_append(settings, category, events))


def _load_modules(settings: Settings) -> None:
    try:
        load_handlers(settings.modules)
    except RegistryError as error:
        fail(str(error))


def _read_file(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")


def _parse_events(text: str) -> list[Event]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = orjson.loads(stripped)
        except orjson.JSONDecodeError as error:
            fail(f"input is not valid JSON: {error}")
        return [_validated(item, f"item {n}") for n, item in enumerate(items, start=1)]
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            fail(f"line {number}: not valid JSON: {error}")
        events.append(_validated(item, f"line {number}"))
    return events


def _validated(item: Any, where: str) -> Event:
    try:
        event = from_json_object(item)
    except InvalidEventError as error:
        fail(f"{where}: {error}")
    if isinstance(event.payload, CatalogPayload):
        for name, why in event.payload.refusals_at(datetime.now(UTC)):
            fail(f"{where}: payload.{name}: {why}")
    return event


async def _append(settings: Settings, category: str, events: list[Event]) -> None:
    async with redis_for(settings) as redis:
        store = EventStore(redis, settings.stream_names())
        if len(events) <= MAX_BATCH:
            for event, result in zip(
                events, await store.append_batch(category, events), strict=True
            ):
                _print_json(
                    {
                        "event_id": str(event.event_id),
                        "stream": result.stream,
                        "position": str(result.position),
                        "duplicate": result.duplicate,
                    }
                )
            return
        new = 0
        with Progress(
            TextColumn("appending in atomic chunks"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress:
            task = progress.add_task("append", total=len(events))
            for start in range(0, len(events), PROGRESS_STEP):
                piece = events[start : start + PROGRESS_STEP]
                new += await store.append_many(category, piece)
                progress.advance(task, len(piece))
        _print_json({"appended": new, "duplicates": len(events) - new})


@app.command()
def read(
    ctx: typer.Context,
    target: TargetArg,
    start: Annotated[
        str | None, typer.Option("--from", help="Position, ISO time, or a duration ago (15m, 2h).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Same forms as --from; inclusive.")
    ] = None,
    reverse: Annotated[bool, typer.Option(help="Newest first.")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after this many events.")] = None,
    types: Annotated[
        list[str] | None, typer.Option("--type", help="Only these types (repeatable).")
    ] = None,
    correlation_id: Annotated[str | None, typer.Option(help="Only this causal chain.")] = None,
) -> None:
    """Print events as JSON lines, each with its stream and position."""
    settings = settings_from(ctx)
    _load_modules(settings)
    bounds = (_bound(start, "--from"), _bound(end, "--to"))
    correlation = _uuid(correlation_id, "--correlation-id") if correlation_id else None
    names = settings.stream_names()
    stream = _stream_or_category(names, target)

    async def go() -> None:
        async with redis_for(settings) as redis:
            store = EventStore(redis, names)
            options: dict[str, Any] = {
                "start": bounds[0],
                "end": bounds[1],
                "reverse": reverse,
                "limit": limit,
                "types": types,
                "correlation_id": correlation,
            }
            reader: AsyncIterator[RecordedEvent] = (
                store.read_stream(stream, **options)
                if stream
                else store.read_category(target, **options)
            )
            async for recorded in reader:
                _print_recorded(recorded)

    run(go())


@app.command()
def tail(
    ctx: typer.Context,
    target: TargetArg,
    from_start: Annotated[
        bool, typer.Option(help="Print what is there first, then follow.")
    ] = False,
) -> None:
    """Print events as they are appended, until Ctrl-C."""
    settings = settings_from(ctx)
    _load_modules(settings)
    names = settings.stream_names()
    stream = _stream_or_category(names, target)
    streams = [stream] if stream else names.category_streams(target)

    async def go() -> None:
        async with redis_for(settings) as redis:
            async for recorded in EventStore(redis, names).follow(streams, from_start=from_start):
                _print_recorded(recorded)

    run(go())


@app.command()
def info(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    every_stream: Annotated[
        bool, typer.Option("--streams", help="Every stream and group, not the summary.")
    ] = False,
) -> None:
    """Streams by category, each handler's lag, pending and counters, and the chat bots.

    ``--json`` prints ``{"streams": [...], "bots": {platform: health}}``."""
    settings = settings_from(ctx)

    async def go() -> tuple[list[StreamStatus], dict[str, dict[str, str]]]:
        async with redis_for(settings) as redis:
            names = settings.stream_names()
            return await system_status(redis, names), await read_health(redis, names)

    statuses, bots = run(go())
    if as_json:
        streams = [_status_json(status, settings.stall_after_s) for status in statuses]
        reported = {platform: health_json(fields) for platform, fields in bots.items()}
        _print_json({"streams": streams, "bots": reported})
        return
    console = Console()
    if not statuses:
        console.print("No streams yet.")
    elif every_stream:
        print_streams(console, statuses, settings.stall_after_s)
    else:
        print_summary(console, statuses, settings.stall_after_s)
    print_bots(console, bots)


def _status_json(status: StreamStatus, stall_after_s: float) -> dict[str, Any]:
    return {
        "stream": status.stream,
        "partition": status.tag,
        "category": status.category,
        "length": status.length,
        "first": str(status.first) if status.first else None,
        "last": str(status.last) if status.last else None,
        "groups": [
            {**group.__dict__, "stalled": group.stalled(stall_after_s)} for group in status.groups
        ],
    }


def _stream_or_category(names: StreamNames, target: str) -> str | None:
    """The stream `target` names, or None when it is a category; bad names exit 2."""
    try:
        if ":{" in target:
            names.parse(target)
            return target
        check_category(target)
    except ValueError as error:
        fail(str(error))
    return None


def _bound(text: str | None, option: str) -> Bound:
    if text is None:
        return None
    if re.fullmatch(r"\d+(-\d+)?", text):
        return Position.parse(text)
    duration = _DURATION.match(text)
    if duration:
        amount, unit = duration.groups()
        return datetime.now(UTC) - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(
            f"invalid {option} value {text!r}: expected a position (1700000000000-0),"
            " an ISO time (2026-11-21T09:00:00Z) or a duration ago (15m, 2h, 7d)"
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _uuid(text: str, option: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        fail(f"invalid {option} value {text!r}: expected a UUID")


def _print_recorded(recorded: RecordedEvent) -> None:
    _print_json(
        {
            "stream": recorded.stream,
            "position": str(recorded.position),
            **to_json_object(recorded.event),
        }
    )


def _print_json(value: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(value) + b"\n")
    sys.stdout.buffer.flush()


# -- dead letters -----------------------------------------------------------------------

HandlerArg = Annotated[str, typer.Argument(help="The handler (consumer group) that gave up.")]
IdsOption = Annotated[
    list[str] | None,
    typer.Option("--id", help="A dead letter's id as `list` prints it (repeatable)."),
]


@dead_letters.command("list")
def list_dead_letters(
    ctx: typer.Context,
    handler: Annotated[str | None, typer.Argument(help="Only this handler's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    cursor: Annotated[str | None, typer.Option(help="Continue after a previous list.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Dead letters by handler, partition and age, with the error that stopped each."""
    settings = settings_from(ctx)
    if handler is not None:
        _handler(handler)

    async def go() -> tuple[list[dict[str, Any]], str | None]:
        async with redis_for(settings) as redis:
            letters = DeadLetters(EventStore(redis, settings.stream_names()))
            try:
                page = await letters.page(handler, cursor=cursor, limit=limit)
            except ValueError as error:
                fail(str(error))
            return [letter.describe() for letter in page.items], page.next_cursor

    items, next_cursor = run(go())
    if as_json:
        for item in items:
            _print_json(item)
    else:
        _print_dead_letters(items)
    if next_cursor is not None:
        typer.echo(f"more: pass --cursor {next_cursor}", err=True)


def _print_dead_letters(items: list[dict[str, Any]]) -> None:
    """One block per dead letter, its id on a line of its own, whole, to copy into
    `retry --id` or `discard --id` (a table column would cut it on a narrow terminal)."""
    console = Console(highlight=False)
    if not items:
        console.print("No dead letters.")
        return
    for item in items:
        console.print(f"[bold]{item['id']}[/bold]", soft_wrap=True)
        console.print(
            f"  {item['handler']}, dead at {item['dead_at'][:19]} after"
            f" {item['deliveries']} tries; {item['original_type'] or 'unreadable entry'}",
            soft_wrap=True,
        )
        if item["correlation_id"]:
            console.print(f"  correlation {item['correlation_id']}", soft_wrap=True)
        console.print(f"  {item['error_type']}: {item['error']}", markup=False)
        console.print()


@dead_letters.command()
def retry(
    ctx: typer.Context,
    handler: HandlerArg,
    ids: IdsOption = None,
    retry_all: Annotated[bool, typer.Option("--all", help="Every dead letter of HANDLER.")] = False,
) -> None:
    """Redeliver dead letters to HANDLER only (after fixing what made it fail)."""
    settings = settings_from(ctx)
    _handler(handler)
    if bool(ids) == retry_all:
        fail("give --id ID (repeatable) or --all, not both and not neither")
    wanted = None if retry_all else _ids(ids or [])

    async def go() -> int:
        async with redis_for(settings) as redis:
            return await DeadLetters(EventStore(redis, settings.stream_names())).retry(
                handler, wanted
            )

    _print_json({"handler": handler, "retried": run(go())})


@dead_letters.command()
def discard(ctx: typer.Context, handler: HandlerArg, ids: IdsOption = None) -> None:
    """Delete dead letters for good (counted, and logged with what they held)."""
    settings = settings_from(ctx)
    _handler(handler)
    if not ids:
        fail("give the dead letters to discard: --id ID (repeatable)")
    wanted = _ids(ids)

    async def go() -> int:
        async with redis_for(settings) as redis:
            return await DeadLetters(EventStore(redis, settings.stream_names())).discard(
                handler, wanted
            )

    _print_json({"handler": handler, "discarded": run(go())})


def _handler(name: str) -> None:
    try:
        check_handler(name)
    except ValueError as error:
        fail(str(error))


def _ids(raw: list[str]) -> list[DeadLetterId]:
    try:
        return [DeadLetterId.parse(item) for item in raw]
    except ValueError as error:
        fail(str(error))
