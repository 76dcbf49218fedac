"""API keys: list (never a key or its hash), issue (the token is shown once), revoke.

Keys are read from the User aggregate itself, not a read model, so a key listed is a
key that exists. A key may hand out only the user scope; admin keys hand out any, and
may act for another user with ``?user_id=``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path

from aggregates.errors import NotFoundError
from aggregates.services.users import KeyInfo, KeyRequest, Users
from aggregates.user import Scope, User
from api.commands import COMMAND_REFUSALS, Accepted, accepted, run_command
from api.deps import ActingFor, Context, UserKey, WaitFor
from api.reading import problem_responses

router = APIRouter(tags=["keys"])

KEYS_RESPONSES = problem_responses(
    401, 403, 404, 422, 429, s404="No such user (an admin's user_id)."
)
COMMAND_RESPONSES = {
    **COMMAND_REFUSALS,
    **problem_responses(404, s404="No such user (an admin's user_id), or no such key."),
}


class KeyIssued(Accepted):
    """`id` is the key id; `token` is the key itself, shown this once."""

    token: str
    scopes: list[Scope]


@router.get(
    "/keys",
    response_model=list[KeyInfo],
    summary="Your API keys (never the keys)",
    responses=KEYS_RESPONSES,
)
async def list_keys(context: Context, user_id: ActingFor) -> list[KeyInfo]:
    return await run_command(context.services.users.list_api_keys, user_id)


@router.post(
    "/keys",
    response_model=KeyIssued,
    status_code=201,
    summary="Issue a key (shown once)",
    responses=COMMAND_RESPONSES,
)
async def issue_key(
    body: KeyRequest, context: Context, principal: UserKey, user_id: ActingFor, wait: WaitFor
) -> KeyIssued:
    if not principal.is_admin and set(body.scopes) != {"user"}:
        granted = ", ".join(sorted(set(body.scopes) - {"user"}))
        raise HTTPException(403, f"only an admin key may grant the {granted} scope")
    users = context.services.users
    issued = await run_command(users.issue_api_key, user_id, body)
    receipt = await accepted(context, wait, application=users.name, resource_id=issued.key_id)
    return KeyIssued(**receipt.model_dump(), token=issued.token, scopes=list(issued.scopes))


def _revoke_key(users: Users, user_id: UUID, key_id: str) -> None:
    """Revoke a key; one the user does not have is a 404 (the aggregate says 409)."""

    def revoke(user: User) -> None:
        if key_id not in user.api_keys:
            raise NotFoundError(f"no API key {key_id}")
        user.revoke_api_key(key_id, datetime.now(UTC))

    users.retrying(lambda: users.change(user_id, revoke))


@router.delete(
    "/keys/{key_id}",
    response_model=Accepted,
    summary="Revoke an API key",
    responses=COMMAND_RESPONSES,
)
async def revoke_key(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")],
    context: Context,
    user_id: ActingFor,
    wait: WaitFor,
) -> Accepted:
    users = context.services.users
    await run_command(_revoke_key, users, user_id, key_id)
    return await accepted(context, wait, application=users.name, resource_id=key_id)
