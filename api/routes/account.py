"""The caller's account: who the key belongs to, profile, channels, quiet hours.

Commands go to the User aggregate and answer with a receipt (`Accepted`); reads come
from the `users` read model. A webhook channel's signing secret is shown once, in the
response that adds the channel. An admin key may act for another user with
``?user_id=``. This router also carries channel tests, the account's watches, API keys
and what the agent remembers (`api.routes.channel_tests`, `api.routes.watches`,
`api.routes.keys`, `api.routes.memory`).
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field, TypeAdapter

from aggregates.channels import CHANNEL_ID, Identity, TelegramChannel
from aggregates.errors import InvalidCommandError, NotFoundError
from aggregates.services.users import ChannelRequest, DisplayName, Users
from aggregates.user import QuietHours, User
from api.commands import COMMAND_REFUSALS, READ_RESPONSES, Accepted, accepted, run_command
from api.consistency import AfterWrites, read_after
from api.context import ApiContext
from api.deps import ActingFor, AnyKey, Context, WaitFor
from api.reading import problem_responses
from api.routes import channel_tests, keys, link_codes, memory, watches
from api.user_deletion import DELETE_RESPONSES, UserDeleted, deleted
from projections.model import Document
from projections.readmodels.users import Users as UsersReadModel

router = APIRouter(tags=["account"])

USERS = UsersReadModel.name
BSON_INT = 2**63
"""Telegram chat ids are 64-bit; anything larger could not be stored in a read model."""

ChannelIdPath = Annotated[str, Path(pattern=CHANNEL_ID.pattern)]
UsersAfter = Annotated[AfterWrites, Depends(read_after(USERS))]
COMMAND_RESPONSES = {
    **COMMAND_REFUSALS,
    **problem_responses(404, s404="No such user (an admin's user_id), or no such channel."),
}


class _PublicChannel(BaseModel):
    channel_id: str


class WebPublic(_PublicChannel):
    kind: Literal["web"]


class TelegramPublic(_PublicChannel):
    kind: Literal["telegram"]
    chat_id: int


class DiscordPublic(_PublicChannel):
    kind: Literal["discord"]
    target: Literal["channel", "dm"]
    id: str


class DiscordWebhookPublic(_PublicChannel):
    """Its URL holds Discord's token: it stays sealed."""

    kind: Literal["discord_webhook"]


class WebhookPublic(_PublicChannel):
    """Its signing secret stays sealed (it was shown once, when the channel was added)."""

    kind: Literal["webhook"]
    url: str


ChannelPublic = Annotated[
    WebPublic | TelegramPublic | DiscordPublic | DiscordWebhookPublic | WebhookPublic,
    Field(discriminator="kind"),
]
"""A channel without its secrets: its kind and the fields that say where it goes."""
CHANNELS = TypeAdapter(list[ChannelPublic])


class Me(BaseModel):
    user_id: UUID
    key_id: str
    scopes: list[str]
    display_name: str | None = Field(
        description="Null for a user the read models do not show yet (within moments)."
    )
    identities: list[Identity]
    channels: list[ChannelPublic]
    quiet_hours: QuietHours | None


class Rename(BaseModel):
    display_name: DisplayName


class QuietHoursRequest(BaseModel):
    """Hold deliveries from `start` to `end`, local time in `timezone` (may wrap midnight)."""

    start: time
    end: time
    timezone: str = Field(default="UTC", min_length=1, max_length=64)


class ChannelAdded(Accepted):
    signing_secret: str | None = Field(
        description="A webhook channel's signing secret (HMAC-SHA256): shown this once."
    )


async def _user_document(context: ApiContext, user_id: UUID) -> Document | None:
    collection = await context.read_models.collection(USERS)
    return await collection.find_one({"_id": str(user_id)})


def _channels(document: Document | None) -> list[ChannelPublic]:
    channels = document["channels"] if document else {}
    return CHANNELS.validate_python(
        [{"channel_id": channel_id, **channel} for channel_id, channel in sorted(channels.items())]
    )


# -- profile ----------------------------------------------------------------------------


@router.get(
    "/me",
    response_model=Me,
    summary="Who this API key belongs to, and their profile",
    responses=READ_RESPONSES,
)
async def me(context: Context, principal: AnyKey, after: UsersAfter) -> Me:
    await after.wait()
    document = await _user_document(context, principal.user_id)
    return Me(
        user_id=principal.user_id,
        key_id=principal.key_id,
        scopes=sorted(principal.scopes),
        display_name=document["display_name"] if document else None,
        identities=document["identities"] if document else [],
        channels=_channels(document),
        quiet_hours=document["quiet_hours"] if document else None,
    )


@router.put(
    "/me",
    response_model=Accepted,
    summary="Change your display name",
    responses=COMMAND_RESPONSES,
)
async def rename(body: Rename, context: Context, user_id: ActingFor, wait: WaitFor) -> Accepted:
    users = context.services.users
    await run_command(users.retrying, lambda: users.rename(user_id, body.display_name))
    return await accepted(context, wait, application=users.name, resource_id=user_id)


@router.put(
    "/me/quiet-hours",
    response_model=Accepted,
    summary="Hold deliveries at night",
    responses=COMMAND_RESPONSES,
)
async def set_quiet_hours(
    body: QuietHoursRequest, context: Context, user_id: ActingFor, wait: WaitFor
) -> Accepted:
    users = context.services.users
    hours = body.model_dump()
    await run_command(users.retrying, lambda: users.set_quiet_hours(user_id, hours))
    return await accepted(context, wait, application=users.name, resource_id=user_id)


@router.delete(
    "/me/quiet-hours",
    response_model=Accepted,
    summary="Deliver at any hour",
    responses=COMMAND_RESPONSES,
)
async def clear_quiet_hours(context: Context, user_id: ActingFor, wait: WaitFor) -> Accepted:
    users = context.services.users
    await run_command(users.retrying, lambda: users.set_quiet_hours(user_id, None))
    return await accepted(context, wait, application=users.name, resource_id=user_id)


@router.delete(
    "/me",
    response_model=UserDeleted,
    summary="Delete your account: your keys revoked, your rules deleted, your chats unlinked",
    responses={
        **DELETE_RESPONSES,
        **problem_responses(404, s404="No such user (an admin's user_id)."),
    },
)
async def delete_me(context: Context, user_id: ActingFor, wait: WaitFor) -> UserDeleted:
    """This key stops working with the rest of the account's: the answer is the last
    thing it gets."""
    return await deleted(context, wait, user_id)


# -- channels ---------------------------------------------------------------------------


@router.get(
    "/channels",
    response_model=list[ChannelPublic],
    summary="Where your alerts can go",
    responses=READ_RESPONSES,
)
async def list_channels(
    context: Context, user_id: ActingFor, after: UsersAfter
) -> list[ChannelPublic]:
    await after.wait()
    return _channels(await _user_document(context, user_id))


@router.post(
    "/channels",
    response_model=ChannelAdded,
    status_code=201,
    summary="Add a channel (a webhook's signing secret is shown once)",
    responses=COMMAND_RESPONSES,
)
async def add_channel(
    body: ChannelRequest, context: Context, user_id: ActingFor, wait: WaitFor
) -> ChannelAdded:
    channel = body.channel
    if isinstance(channel, TelegramChannel) and not -BSON_INT <= channel.chat_id < BSON_INT:
        raise InvalidCommandError("a Telegram chat id is a 64-bit number", field="channel.chat_id")
    users = context.services.users
    added = await run_command(users.add_channel, user_id, body)
    receipt = await accepted(context, wait, application=users.name, resource_id=added.channel_id)
    return ChannelAdded(**receipt.model_dump(), signing_secret=added.signing_secret)


def _remove_channel(users: Users, user_id: UUID, channel_id: str) -> None:
    """Remove a channel; one the user does not have is a 404 (the aggregate says 409)."""

    def remove(user: User) -> None:
        if channel_id not in user.channels:
            raise NotFoundError(f"no channel {channel_id!r}")
        user.remove_channel(channel_id)

    users.retrying(lambda: users.change(user_id, remove))


@router.delete(
    "/channels/{channel_id}",
    response_model=Accepted,
    summary="Remove a channel",
    responses=COMMAND_RESPONSES,
)
async def remove_channel(
    channel_id: ChannelIdPath, context: Context, user_id: ActingFor, wait: WaitFor
) -> Accepted:
    users = context.services.users
    await run_command(_remove_channel, users, user_id, channel_id)
    return await accepted(context, wait, application=users.name, resource_id=channel_id)


router.include_router(channel_tests.router)
router.include_router(watches.router)
router.include_router(memory.router)
router.include_router(keys.router)
router.include_router(link_codes.router)
