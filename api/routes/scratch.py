"""Dry runs of a rebuild: fill a scratch generation from the log, diff it, discard it.

`POST` starts a scratch generation of a read model (the projections process fills it
like a rebuild, and never swaps it in); `GET` shows how far it got and, once it has
caught up, what a rebuild would change against the active generation; `DELETE`
retires it. Every endpoint needs an ``admin`` key.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from api.context import ApiContext
from api.deps import Admin, Context
from api.reading import problem_responses
from projections.diff import Change, diff_collections
from projections.generations import Generation, Generations
from projections.model import Projection
from projections.runner import backlog

router = APIRouter(prefix="/admin/projections", tags=["admin"])

REFUSALS = problem_responses(401, 403, 422, 429)
NO_MODEL = problem_responses(404, s404="No such read model, or no scratch generation.")
NamePath = Annotated[str, Path(max_length=64, description="The read model's name.")]


class ScratchStarted(BaseModel):
    projection: str
    scratch: int
    collection: str
    group: str


class DocumentChangeOut(BaseModel):
    id: str
    change: Change
    before: dict[str, Any] | None = Field(description="In the active generation.")
    after: dict[str, Any] | None = Field(description="In the scratch generation.")


class DiffOut(BaseModel):
    compared: int = Field(description="Documents of the active generation compared.")
    unchanged: int
    added: int
    removed: int
    changed: int
    samples: list[DocumentChangeOut]
    truncated: bool = Field(description="True when `max_documents` stopped the comparison.")


class ScratchOut(BaseModel):
    projection: str
    scratch: int
    active: int
    backlog: int = Field(description="Events the scratch generation has yet to apply.")
    diff: DiffOut | None = Field(description="Null until the scratch generation caught up.")


def _projection(context: ApiContext, name: str) -> Projection:
    projection = context.read_models.projections.get(name)
    if projection is None:
        raise HTTPException(404, f"no read model named {name!r}")
    return projection


@router.post(
    "/{name}/scratch",
    response_model=ScratchStarted,
    status_code=202,
    summary="Start a dry run: rebuild into a scratch generation that is never swapped in",
    responses={**REFUSALS, **NO_MODEL},
)
async def start_scratch(name: NamePath, context: Context, admin: Admin) -> ScratchStarted:
    projection = _projection(context, name)
    generation = await Generations(context.database).start_scratch(projection)
    return ScratchStarted(
        projection=name,
        scratch=generation.number,
        collection=generation.collection,
        group=generation.group,
    )


@router.get(
    "/{name}/scratch",
    response_model=ScratchOut,
    summary="A dry run's progress, and once caught up, what a rebuild would change",
    description="The diff compares documents by id, leaving out each one's `_pos`; it reads"
    " at most `max_documents` documents of the active generation.",
    responses={**REFUSALS, **NO_MODEL},
)
async def get_scratch(
    name: NamePath,
    context: Context,
    admin: Admin,
    samples: Annotated[int, Query(ge=0, le=200, description="Changed documents shown.")] = 20,
    max_documents: Annotated[int, Query(ge=1, le=1_000_000)] = 100_000,
) -> ScratchOut:
    projection = _projection(context, name)
    state = await Generations(context.database).get(name)
    if state is None or state.scratch is None:
        raise HTTPException(404, f"{name} has no scratch generation: start one with POST")
    remaining = await backlog(projection, state.scratch, context.store)
    diff = None
    if remaining == 0:
        found = await diff_collections(
            context.database[state.active.collection],
            context.database[state.scratch.collection],
            samples=samples,
            max_documents=max_documents,
        )
        diff = DiffOut.model_validate(found, from_attributes=True)
    return ScratchOut(
        projection=name,
        scratch=state.scratch.number,
        active=state.active.number,
        backlog=remaining,
        diff=diff,
    )


@router.delete(
    "/{name}/scratch",
    response_model=ScratchStarted,
    summary="Discard a dry run (its collection is dropped after the grace period)",
    responses={**REFUSALS, **NO_MODEL},
)
async def discard_scratch(name: NamePath, context: Context, admin: Admin) -> ScratchStarted:
    _projection(context, name)
    generation: Generation | None = await Generations(context.database).discard_scratch(name)
    if generation is None:
        raise HTTPException(404, f"{name} has no scratch generation")
    return ScratchStarted(
        projection=name,
        scratch=generation.number,
        collection=generation.collection,
        group=generation.group,
    )
