"""`impressox users delete USER_ID`: deleting a user from the command line.

The same flow as ``DELETE /v1/users/{user_id}`` (`api.user_deletion`): the user's keys
revoked (the API refuses them and closes their sockets at once), their rules deleted,
their chats unlinked, every later command on them refused. It needs Redis and MongoDB
(the user's rules are found in the ``alert_rules`` read model): those of the configured
URLs, or of a system running on the data directory. Prints one JSON line; an invalid or
unknown id is exit code 2 with one line on stderr.
"""

from __future__ import annotations

import sys
from typing import Annotated
from uuid import UUID

import orjson
import typer

from api.user_deletion import Deletion, delete_user
from events.store import EventStore
from impressox.cli.common import fail, require_urls, run, settings_from
from impressox.connections import connect_mongo, connect_redis
from impressox.modules import load_handlers
from impressox.services import build_services
from impressox.settings import Settings
from projections.reader import ReadModels
from projections.registry import PROJECTIONS, READ_MODEL_MODULES

app = typer.Typer(help="Users: delete one.", no_args_is_help=True)


@app.command()
def delete(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument(metavar="USER_ID", help="The user's id (a UUID).")],
) -> None:
    """Delete a user: keys revoked, rules deleted, chats unlinked (history is kept).

    Deleting a deleted user again is not an error (``already_deleted``: true); it
    deletes any rule a stopped deletion left.
    """
    try:
        owner = UUID(user_id)
    except ValueError:
        fail(f"invalid USER_ID {user_id!r}: expected a UUID")
    settings = settings_from(ctx)
    deletion = run(_delete(settings, owner))
    printed = {
        "user_id": str(deletion.user_id),
        "already_deleted": deletion.already,
        "rules_deleted": deletion.rules_deleted,
        "rules_settled": deletion.rules_settled,
    }
    sys.stdout.buffer.write(orjson.dumps(printed) + b"\n")


async def _delete(settings: Settings, user_id: UUID) -> Deletion:
    redis_url, mongo_url = require_urls(settings)
    load_handlers([*READ_MODEL_MODULES, *settings.modules])
    services = build_services(settings, redis_url)
    redis = await connect_redis(redis_url)
    mongo = connect_mongo(mongo_url)
    try:
        read_models = ReadModels(mongo[settings.mongo_database], PROJECTIONS.all())
        store = EventStore(redis, settings.stream_names())
        return await delete_user(services, read_models, store, user_id)
    finally:
        await mongo.close()
        await redis.aclose()
        services.close()
