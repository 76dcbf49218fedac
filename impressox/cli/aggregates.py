"""`impressox aggregates show ID`: any aggregate, now or at a past version or time."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import orjson
import typer

from aggregates.errors import InvalidCommandError, NotFoundError
from aggregates.services.base import Service
from aggregates.services.bundle import Services
from impressox.cli.common import EXIT_INPUT, fail, redis_url_for, settings_from
from impressox.services import build_services

app = typer.Typer(
    help="Inspect aggregates: state at any version or time, and history.", no_args_is_help=True
)


@app.command()
def show(
    ctx: typer.Context,
    aggregate_id: Annotated[str, typer.Argument(metavar="ID", help="The aggregate's id (a UUID).")],
    version: Annotated[int | None, typer.Option(min=1, help="State at this version.")] = None,
    at: Annotated[
        str | None, typer.Option(help="State at this ISO time (2026-11-21T09:00:00Z).")
    ] = None,
    history: Annotated[
        bool, typer.Option(help="Print every event instead, as JSON lines.")
    ] = False,
) -> None:
    """Print an aggregate's state as JSON (or its history), whatever kind it is."""
    identifier = _uuid(aggregate_id)
    moment = _moment(at) if at else None
    if version is not None and moment is not None:
        fail("give --version or --at, not both")
    with _services(ctx) as services:
        service = _owner(services, identifier)
        try:
            if history:
                for event in service.history(identifier):
                    _print({"type": type(event).event_type, **event.model_dump(mode="json")})
                return
            _print(service.view(identifier, version=version, at=moment).model_dump(mode="json"))
        except (NotFoundError, InvalidCommandError) as error:
            fail(str(error).removeprefix("version: "))


@contextmanager
def _services(ctx: typer.Context) -> Iterator[Services]:
    settings = settings_from(ctx)
    with redis_url_for(settings) as url:
        services = build_services(settings, url)
        try:
            yield services
        finally:
            services.close()


def _owner(services: Services, aggregate_id: UUID) -> Service:  # type: ignore[type-arg]
    for service in services.all():
        if service.recorder.select_events(aggregate_id, limit=1):
            return service
    return fail(f"no aggregate {aggregate_id}", EXIT_INPUT)


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        fail(f"invalid ID {text!r}: expected a UUID")


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"invalid --at value {text!r}: expected an ISO time such as 2026-11-21T09:00:00Z")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _print(value: object) -> None:
    sys.stdout.buffer.write(orjson.dumps(value) + b"\n")
