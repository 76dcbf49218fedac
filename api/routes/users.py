"""Users, for admins: deleting one (``DELETE /v1/users/{user_id}``).

A user deletes their own account with ``DELETE /v1/me`` (`api.routes.account`); both go
through `api.user_deletion`.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import Admin, Context, WaitFor
from api.reading import problem_responses
from api.user_deletion import DELETE_RESPONSES, UserDeleted, deleted

router = APIRouter(prefix="/users", tags=["users"])


@router.delete(
    "/{user_id}",
    response_model=UserDeleted,
    summary="Delete a user: their keys revoked, their rules deleted, their chats unlinked",
    responses={**DELETE_RESPONSES, **problem_responses(404, s404="No such user.")},
)
async def delete_user(user_id: UUID, context: Context, _: Admin, wait: WaitFor) -> UserDeleted:
    return await deleted(context, wait, user_id)
