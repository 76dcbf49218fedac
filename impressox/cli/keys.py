"""`impressox keys create|list|revoke`: API keys, issued on the command line.

The token of a new key is printed once, on stdout, and logged nowhere: only its hash
is recorded. A key works as soon as the `api_keys` read model has applied it (within
moments while `impressox up` or `impressox projections run` is running).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from uuid import UUID

import orjson
import typer

from aggregates.errors import DomainError
from aggregates.services.users import KeyRequest, Users
from aggregates.validation import validated
from impressox.cli.common import fail, redis_url_for, settings_from
from impressox.services import build_services

app = typer.Typer(
    help="API keys: create (prints the key once), list, revoke.", no_args_is_help=True
)

DEFAULT_DISPLAY_NAME = "cli user"

UserIdOption = Annotated[str, typer.Option("--user-id", help="The user's id (a UUID).")]


@app.command()
def create(
    ctx: typer.Context,
    admin: Annotated[bool, typer.Option("--admin", help="An admin key (everything).")] = False,
    ingest: Annotated[
        bool, typer.Option("--ingest", help="A key that may append events from outside.")
    ] = False,
    name: Annotated[str, typer.Option(help="What the key is for, to tell keys apart.")] = "cli",
    user_id: Annotated[
        str | None, typer.Option("--user-id", help="Issue it to this user (a UUID).")
    ] = None,
    display_name: Annotated[
        str | None, typer.Option(help="Register a new user by this name (the default).")
    ] = None,
) -> None:
    """Issue a key (scope user, or --admin/--ingest), registering a user unless --user-id.

    Prints one JSON line with the user id, the key id, the scopes and the token: the
    token is shown this once.
    """
    if user_id is not None and display_name is not None:
        fail("give --user-id or --display-name, not both")
    owner = _uuid(user_id) if user_id is not None else None
    scopes = [scope for scope, wanted in (("admin", admin), ("ingest", ingest)) if wanted]
    with _users(ctx) as users:
        try:
            request = validated(KeyRequest, {"name": name, "scopes": scopes or ["user"]})
            if owner is None:
                owner = users.register(display_name or DEFAULT_DISPLAY_NAME)
            issued = users.issue_api_key(owner, request)
        except DomainError as error:
            fail(str(error))
    _print(
        {
            "user_id": str(owner),
            "key_id": issued.key_id,
            "scopes": list(issued.scopes),
            "token": issued.token,
        }
    )


@app.command("list")
def list_keys(ctx: typer.Context, user_id: UserIdOption) -> None:
    """Print a user's keys as JSON lines, oldest first (never a key or its hash)."""
    owner = _uuid(user_id)
    with _users(ctx) as users:
        try:
            keys = users.list_api_keys(owner)
        except DomainError as error:
            fail(str(error))
    for key in keys:
        _print(key.model_dump(mode="json"))


@app.command()
def revoke(
    ctx: typer.Context,
    user_id: UserIdOption,
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's id.")],
) -> None:
    """Revoke a user's key (it stops working within the API's auth_cache_s)."""
    owner = _uuid(user_id)
    with _users(ctx) as users:
        try:
            if not any(key.key_id == key_id for key in users.list_api_keys(owner)):
                fail(f"user {owner} has no API key {key_id!r}")
            users.revoke_api_key(owner, key_id)
            revoked = next(key for key in users.list_api_keys(owner) if key.key_id == key_id)
        except DomainError as error:
            fail(str(error))
    _print(revoked.model_dump(mode="json"))


@contextmanager
def _users(ctx: typer.Context) -> Iterator[Users]:
    settings = settings_from(ctx)
    with redis_url_for(settings) as url:
        services = build_services(settings, url)
        try:
            yield services.users
        finally:
            services.close()


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        fail(f"invalid --user-id {text!r}: expected a UUID")


def _print(value: object) -> None:
    sys.stdout.buffer.write(orjson.dumps(value) + b"\n")
