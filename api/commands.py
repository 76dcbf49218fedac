"""What command endpoints share: whom they act for, running them, their receipts.

A command runs the aggregates' synchronous service in a thread and answers with where
its events landed (`Accepted.position`). Read models catch up a moment later; a client
that must read its own write either passes that position back as ``after=`` on a read,
or asks the command to ``wait`` until the read models have applied it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel, Field

from api.consistency import READ_AFTER_HEADERS, format_position, written_position
from api.context import ApiContext
from api.problems import PROBLEM_JSON
from api.reading import READ_REFUSALS, Problem, inline_schema, problem_responses

P = ParamSpec("P")
T = TypeVar("T")

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "The command does not apply in the resource's state (the detail says"
        " why), or another command changed it first.",
        "content": {PROBLEM_JSON: {"schema": inline_schema(Problem)}},
    }
}
COMMAND_REFUSALS = {
    **problem_responses(400, 401, 403, 413, 422, 429, 503, s400="The body is not valid JSON."),
    **CONFLICT,
}
"""How any command may be refused, for the OpenAPI `responses`."""
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"headers": READ_AFTER_HEADERS},
    **problem_responses(*READ_REFUSALS),
}
"""How the reads beside the commands answer (``after=``) and are refused."""


class Accepted(BaseModel):
    """A command's receipt."""

    id: str = Field(description="What the command created or changed.")
    position: str = Field(
        description="`<stream>@<position>` at or after the command's events: read models"
        " that have applied it show the command's effect (pass it as `after=` to a read)."
    )
    caught_up: bool | None = Field(
        default=None,
        description="With `wait=true`: whether the read models applied the position in time"
        " (null when the command did not wait).",
    )


@dataclass(frozen=True)
class Wait:
    """How long to hold the response until the read models show the command (None: not)."""

    seconds: float | None


async def run_command(command: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a synchronous service command in a thread (never on the event loop)."""
    return await asyncio.to_thread(command, *args, **kwargs)


async def accepted(
    context: ApiContext,
    wait: Wait,
    *,
    application: str,
    resource_id: object,
    notification_id: int | None = None,
) -> Accepted:
    """The receipt of a command of `application` that wrote `notification_id` (None when
    its service does not say: the receipt then holds the log's head, at or after it)."""
    stream, position = await written_position(context.store, application, notification_id)
    caught_up: bool | None = None
    if wait.seconds is not None:
        caught_up = await context.read_models.wait_for(
            context.redis, context.store.names, stream, position, timeout_s=wait.seconds
        )
    return Accepted(
        id=str(resource_id), position=format_position(stream, position), caught_up=caught_up
    )
