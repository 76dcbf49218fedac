"""`impressox projections run|list|status|rebuild`: the read models and their rebuilds."""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import orjson
import typer
from pymongo.asynchronous.database import AsyncDatabase
from rich.console import Console
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from events.errors import ImpressoxError, RegistryError
from events.store import EventStore
from impressox.cli.common import exit_code, fail, require_urls, run, settings_from
from impressox.connections import connect_mongo, connect_redis
from impressox.modules import load_handlers
from impressox.projector import configured_projections, projector_config, serve_projections
from impressox.settings import Settings
from projections.generations import Generations
from projections.model import Document, Projection
from projections.rebuild import (
    PartitionStatus,
    ProjectionStatus,
    RebuildOutcome,
    partition_statuses,
    projection_statuses,
    rebuild,
)
from projections.registry import READ_MODEL_MODULES

app = typer.Typer(help="Read models: run them, list them, rebuild them.", no_args_is_help=True)

T = TypeVar("T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")]


@app.command("run")
def run_projections(ctx: typer.Context) -> None:
    """Keep the read models up to date (IMPRESSOX_PROJECTIONS, else all); Ctrl-C stops."""
    settings = settings_from(ctx)
    projections = _projections(settings)
    redis_url, mongo_url = _urls(settings)
    run(serve_projections(settings, redis_url, mongo_url, projections))


@app.command("list")
def list_projections(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Each read model: its active generation and collection, a rebuild, the backlog."""
    settings = settings_from(ctx)
    projections = _projections(settings)
    statuses = _with(
        settings,
        lambda session: projection_statuses(projections, session.store, session.generations),
    )
    if as_json:
        for status in statuses:
            _print_json(_status_json(status))
        return
    table = Table(title="Projections")
    table.add_column("name", no_wrap=True)
    table.add_column("active", no_wrap=True)
    table.add_column("collection", overflow="fold")
    table.add_column("backlog", justify="right", no_wrap=True)
    table.add_column("building", no_wrap=True)
    table.add_column("its backlog", justify="right", no_wrap=True)
    for status in statuses:
        table.add_row(
            status.name,
            f"g{status.active.number}" if status.started else "not started",
            status.active.collection,
            str(status.active_backlog),
            f"g{status.building.number}" if status.building else "-",
            "-" if status.building_backlog is None else str(status.building_backlog),
        )
    Console().print(table)


@app.command()
def status(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="One read model; all when omitted.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Per source stream: each generation's tracked position, backlog and owner."""
    settings = settings_from(ctx)
    projections = [_projection(settings, name)] if name else _projections(settings)

    async def collect(session: _Session) -> list[PartitionStatus]:
        by_name = {projection.name: projection for projection in projections}
        found: list[PartitionStatus] = []
        for current in await projection_statuses(projections, session.store, session.generations):
            generations = [current.active, *([current.building] if current.building else [])]
            for generation in generations:
                found += await partition_statuses(by_name[current.name], generation, session.store)
        return found

    rows = _with(settings, collect)
    if as_json:
        for row in rows:
            _print_json(_partition_json(row))
        return
    print_partitions(Console(), rows)


def print_partitions(console: Console, rows: list[PartitionStatus]) -> None:
    """Each generation's group on a line of its own, then its streams: names whole (they
    are what `events read` takes), owners folded where they do not fit."""
    for group, streams in itertools.groupby(rows, key=lambda row: row.generation.group):
        console.print(Text(group, style="bold"), soft_wrap=True)
        table = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0))
        table.add_column("stream", no_wrap=True)
        table.add_column("tracked", no_wrap=True)
        table.add_column("backlog", justify="right", no_wrap=True)
        table.add_column("owner", overflow="fold")
        for row in streams:
            tracked = str(row.tracked) if row.tracked else "-"
            table.add_row(row.stream, tracked, str(row.backlog), row.owner or "-")
        console.print(Padding(table, (0, 0, 0, 2)))


@app.command("rebuild")
def rebuild_projection(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The read model to rebuild.")],
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="Build here until swapped in (default), or only start it for the projector.",
        ),
    ] = True,
) -> None:
    """Replay the log into a new generation, then swap it in; reads go on meanwhile.

    Ctrl-C leaves the rebuild in place: a running projector finishes and swaps it.
    """
    settings = settings_from(ctx)
    projection = _projection(settings, name)
    config = projector_config(settings)

    async def go(session: _Session) -> dict[str, Any]:
        if not wait:
            generation = await session.generations.start_rebuild(projection)
            return {"projection": name, "building": generation.number}
        with _progress_bar() as bar:
            task = bar.add_task("rebuild", total=None)
            try:
                outcome: RebuildOutcome = await rebuild(
                    projection,
                    session.store,
                    session.database,
                    config,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
            except asyncio.CancelledError:
                typer.echo(
                    f"interrupted: {name}'s new generation stays building;"
                    " a running projector finishes and swaps it",
                    err=True,
                )
                raise
        return {
            "projection": name,
            "active": outcome.generation.number,
            "collection": outcome.generation.collection,
            "swapped_by": "this process" if outcome.swapped_here else "the projector",
        }

    _print_json(_with(settings, go))


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("replaying into the new generation"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


# -- shared -----------------------------------------------------------------------------


@dataclass
class _Session:
    store: EventStore
    database: AsyncDatabase[Document]
    generations: Generations


def _projections(settings: Settings) -> list[Projection]:
    try:
        load_handlers([*READ_MODEL_MODULES, *settings.modules])
        return configured_projections(settings)
    except RegistryError as error:
        fail(str(error))


def _projection(settings: Settings, name: str) -> Projection:
    projections = _projections(settings)
    for projection in projections:
        if projection.name == name:
            return projection
    known = ", ".join(p.name for p in projections) or "none"
    return fail(f"no projection named {name!r} (known: {known})")


def _urls(settings: Settings) -> tuple[str, str]:
    try:
        return require_urls(settings)
    except ImpressoxError as error:
        fail(str(error), exit_code(error))


def _with(settings: Settings, work: Callable[[_Session], Awaitable[T]]) -> T:
    """Run `work` with clients of the deployment's Redis and MongoDB, closed after."""
    redis_url, mongo_url = _urls(settings)

    async def go() -> T:
        redis = await connect_redis(redis_url)
        mongo = connect_mongo(mongo_url)
        database = mongo[settings.mongo_database]
        store = EventStore(redis, settings.stream_names())
        try:
            return await work(_Session(store, database, Generations(database)))
        finally:
            await redis.aclose()
            await mongo.close()

    return run(go())


def _status_json(status: ProjectionStatus) -> dict[str, Any]:
    return {
        "name": status.name,
        "started": status.started,
        "active": status.active.number,
        "collection": status.active.collection,
        "backlog": status.active_backlog,
        "building": status.building.number if status.building else None,
        "building_backlog": status.building_backlog,
        "retired": [generation.number for generation in status.retired],
    }


def _partition_json(row: PartitionStatus) -> dict[str, Any]:
    return {
        "projection": row.generation.projection,
        "generation": row.generation.number,
        "group": row.generation.group,
        "stream": row.stream,
        "tracked": str(row.tracked) if row.tracked else None,
        "backlog": row.backlog,
        "owner": row.owner,
    }


def _print_json(value: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(value) + b"\n")
    sys.stdout.buffer.flush()
