"""Sending a test message to one of your channels (the web page's *Send a test*).

The command appends a ``channel.test_requested`` event and answers at once (202): the
notify handler delivers it to that channel alone, the way it delivers alerts (the same
senders, destination checks, rate limit and retries; quiet hours do not hold a test),
and records the outcome as ``notification.sent`` or ``notification.failed`` with the
request's event id as ``subject_event_id``. Follow it on the ``notifications`` topic, or
read ``GET /v1/notifications?subject_event_id=<id>``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from aggregates.channels import CHANNEL_ID
from aggregates.errors import NotFoundError
from aggregates.user import User
from api.commands import COMMAND_REFUSALS, run_command
from api.consistency import format_position
from api.deps import ActingFor, Context
from api.reading import problem_responses
from events.catalog import ChannelTestRequested
from events.envelope import Event

router = APIRouter(tags=["account"])

ChannelIdPath = Annotated[str, Path(pattern=CHANNEL_ID.pattern)]


class ChannelTestAccepted(BaseModel):
    """A channel test on its way: its outcome names it as `subject_event_id`."""

    id: UUID = Field(description="The test's event id: its notification's `subject_event_id`.")
    position: str = Field(description="`<stream>@<position>` of the test's event.")


@router.post(
    "/channels/{channel_id}/test",
    response_model=ChannelTestAccepted,
    status_code=202,
    summary="Send a test message to a channel (its outcome arrives as a notification)",
    responses={
        **COMMAND_REFUSALS,
        **problem_responses(404, s404="No such channel, or no such user (an admin's user_id)."),
    },
)
async def test_channel(
    channel_id: ChannelIdPath, context: Context, user_id: ActingFor
) -> ChannelTestAccepted:
    user: User = await run_command(context.services.users.load, user_id)
    if channel_id not in user.channels:
        raise NotFoundError(
            f"no channel {channel_id!r} (yours: {', '.join(sorted(user.channels)) or 'none'})"
        )
    request = ChannelTestRequested(
        user_id=user_id, channel_id=channel_id, requested_at=datetime.now(UTC)
    )
    event = Event(payload=request, key=request.partition_key())
    result = await context.store.append(request.category, event)
    return ChannelTestAccepted(
        id=event.event_id, position=format_position(result.stream, result.position)
    )
