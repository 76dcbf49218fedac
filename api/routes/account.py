"""The caller's own account: who the key belongs to."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from api.auth import AnyKey

router = APIRouter(tags=["account"])


class Me(BaseModel):
    user_id: UUID
    key_id: str
    scopes: list[str]


@router.get("/me", response_model=Me, summary="Who this API key belongs to")
async def me(principal: AnyKey) -> Me:
    return Me(user_id=principal.user_id, key_id=principal.key_id, scopes=sorted(principal.scopes))
