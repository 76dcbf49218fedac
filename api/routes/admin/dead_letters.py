"""Dead letters: list, retry, discard. Admin keys only."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from api.admin_models import (
    DeadLetterIds,
    DeadLetterOut,
    Discarded,
    Retried,
    RetryRequest,
)
from api.deps import Admin, Context
from api.pagination import Page
from api.problems import BadParameterError
from api.reading import ADMIN_REFUSALS as REFUSALS
from api.reading import MAX_EVENTS, problem_responses
from handlers.dead_letter_ops import (
    HANDLER_PATTERN,
    DeadLetterId,
    DeadLetters,
    UnknownDeadLetterError,
)

router = APIRouter(prefix="/admin", tags=["admin"])

# -- dead letters -----------------------------------------------------------------------


HandlerPath = Annotated[str, Path(pattern=HANDLER_PATTERN, description="The handler's name.")]
UNKNOWN_LETTER = problem_responses(404, s404="A dead letter is not there (retried, discarded).")


@router.get(
    "/dead-letters",
    response_model=Page[DeadLetterOut],
    summary="Dead letters of every handler (or one), by handler, partition and age",
    responses={**REFUSALS, **problem_responses(400)},
)
async def get_dead_letters(
    context: Context,
    admin: Admin,
    handler: Annotated[str | None, Query(pattern=HANDLER_PATTERN)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 50,
) -> Page[DeadLetterOut]:
    try:
        page = await DeadLetters(context.store).page(handler, cursor=cursor, limit=limit)
    except ValueError as error:  # the only one: a cursor this API did not give out
        raise BadParameterError("cursor", str(error)) from None
    items = [DeadLetterOut.model_validate(letter.describe()) for letter in page.items]
    return Page[DeadLetterOut](items=items, next_cursor=page.next_cursor)


@router.post(
    "/dead-letters/{handler}/retry",
    response_model=Retried,
    summary="Redeliver dead letters to their handler alone (after fixing the cause)",
    responses={**REFUSALS, **UNKNOWN_LETTER},
)
async def retry_dead_letters(
    handler: HandlerPath, request: RetryRequest, context: Context, admin: Admin
) -> Retried:
    ids = None if request.all else [DeadLetterId.parse(raw) for raw in request.ids or []]
    retried = await _refusing_unknown(DeadLetters(context.store).retry(handler, ids))
    return Retried(handler=handler, retried=retried)


@router.post(
    "/dead-letters/{handler}/discard",
    response_model=Discarded,
    summary="Delete dead letters for good (counted and logged)",
    responses={**REFUSALS, **UNKNOWN_LETTER},
)
async def discard_dead_letters(
    handler: HandlerPath, request: DeadLetterIds, context: Context, admin: Admin
) -> Discarded:
    discarded = await _refusing_unknown(
        DeadLetters(context.store).discard(handler, request.parsed())
    )
    return Discarded(handler=handler, discarded=discarded)


async def _refusing_unknown(step: Awaitable[int]) -> int:
    try:
        return await step
    except UnknownDeadLetterError as error:
        raise HTTPException(404, str(error)) from None
