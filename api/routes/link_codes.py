"""Linking codes: a one-time code the user sends to a bot (``/link CODE``) so that their
Telegram or Discord account talks to this Impressox account (`bots.link_codes`).

The code is shown once, in this response; only its hash is kept, for ten minutes.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from api.commands import ActingFor
from api.context import Context
from api.reading import problem_responses
from bots.link_codes import LinkCodes

router = APIRouter(tags=["account"])


class LinkCode(BaseModel):
    code: str
    """Send ``/link <code>`` to the Telegram or Discord bot; it works once."""
    expires_at: datetime


@router.post(
    "/link-codes",
    response_model=LinkCode,
    status_code=201,
    summary="A one-time code linking a Telegram or Discord account to yours",
    responses=problem_responses(401, 403, 404, 422, 429, s404="No such user (an admin's user_id)."),
)
async def issue_link_code(context: Context, user_id: ActingFor) -> LinkCode:
    codes = LinkCodes(context.redis, context.store.names)
    issued = await codes.issue(user_id)
    return LinkCode(code=issued.code, expires_at=issued.expires_at)
