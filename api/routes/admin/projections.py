"""Read models: their generations and lag, and rebuilds. Admin keys only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from api.admin_models import (
    ProjectionOut,
    RebuildStarted,
)
from api.deps import Admin, Context
from api.reading import ADMIN_REFUSALS as REFUSALS
from api.reading import problem_responses
from projections.generations import Generations
from projections.rebuild import projection_statuses

router = APIRouter(prefix="/admin", tags=["admin"])

# -- projections ------------------------------------------------------------------------


@router.get(
    "/projections",
    response_model=list[ProjectionOut],
    summary="Read models: generations, rebuilds, backlog",
    responses=REFUSALS,
)
async def get_projections(context: Context, admin: Admin) -> list[ProjectionOut]:
    statuses = await projection_statuses(
        list(context.read_models.projections.values()),
        context.store,
        Generations(context.database),
    )
    return [ProjectionOut.of(status) for status in statuses]


@router.post(
    "/projections/{name}/rebuild",
    response_model=RebuildStarted,
    status_code=202,
    summary="Rebuild a read model from the log; the projector swaps it in when caught up",
    description="Starts the next generation (or returns the one already building). Reads"
    " go on from the active generation until the swap.",
    responses={**REFUSALS, **problem_responses(404, s404="No such read model.")},
)
async def rebuild_projection(
    name: Annotated[str, Path(max_length=64)], context: Context, admin: Admin
) -> RebuildStarted:
    projection = context.read_models.projections.get(name)
    if projection is None:
        raise HTTPException(404, f"no read model named {name!r}")
    generation = await Generations(context.database).start_rebuild(projection)
    return RebuildStarted(
        projection=name,
        building=generation.number,
        collection=generation.collection,
        group=generation.group,
    )
