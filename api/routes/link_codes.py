"""Linking codes: a one-time code the user sends to a bot (``/link CODE``) so that their
Telegram or Discord account talks to this Impressox account (`aggregates.link_code`).

The code is shown once, in this response; only its hash is recorded, and it expires
after ten minutes.
"""

from __future__ import annotations

from fastapi import APIRouter

from aggregates.services.users import IssuedLinkCode
from api.commands import COMMAND_REFUSALS, run_command
from api.deps import ActingFor, Context
from api.reading import problem_responses

router = APIRouter(tags=["account"])


@router.post(
    "/link-codes",
    response_model=IssuedLinkCode,
    status_code=201,
    summary="A one-time code linking a Telegram or Discord account to yours",
    responses={
        **COMMAND_REFUSALS,
        **problem_responses(404, s404="No such user (an admin's user_id)."),
    },
)
async def issue_link_code(context: Context, user_id: ActingFor) -> IssuedLinkCode:
    return await run_command(context.services.users.issue_link_code, user_id)
