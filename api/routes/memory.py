"""What the agent remembers about the caller: see it, and make it forget.

The facts a user stated to the agent ("I hold 2 ETH") are theirs to inspect and delete.
The list is read from the Memory aggregate itself (at most `MAX_FACTS` facts), so a
fact told to the agent a moment ago is listed at once, and a forgotten one is gone at
once from the list and, a moment later, from the agent's recall index. An admin key may
act for another user with ``?user_id=``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from aggregates.memory import MAX_FACTS, Fact, FieldValue, Subject
from api.commands import COMMAND_REFUSALS, Accepted, Wait, accepted, run_command
from api.deps import ActingFor, ActingForLive, Context
from api.reading import READ_REFUSALS, problem_responses

router = APIRouter(tags=["memory"])

FactIdPath = Annotated[str, Path(min_length=1, max_length=64, description="The fact's id.")]


class FactSource(BaseModel):
    conversation_id: UUID
    message_id: str


class FactPublic(BaseModel):
    id: str
    text: str = Field(description="As the user said it.")
    subject: Subject
    fields: dict[str, FieldValue] = Field(
        description="What was read from it: asset and amount, venue, or a preference's"
        " name and value."
    )
    source: FactSource | None = Field(description="The message that stated it.")
    at: datetime
    replaces: str | None = Field(description="The id of the earlier fact it superseded.")

    @classmethod
    def of(cls, fact: Fact) -> FactPublic:
        source = fact.source
        return cls(
            id=fact.fact_id,
            text=fact.text,
            subject=fact.subject,
            fields=fact.fields,
            source=FactSource(conversation_id=source.conversation_id, message_id=source.message_id)
            if source
            else None,
            at=fact.at,
            replaces=fact.replaces,
        )


class MemoryList(BaseModel):
    facts: list[FactPublic] = Field(description=f"Oldest first; at most {MAX_FACTS}.")


@router.get(
    "/memory",
    response_model=MemoryList,
    summary="What the agent remembers about you",
    responses=problem_responses(*READ_REFUSALS),
)
async def list_memory(context: Context, user_id: ActingFor) -> MemoryList:
    facts = await run_command(context.services.memory.facts, user_id)
    return MemoryList(facts=[FactPublic.of(fact) for fact in facts])


@router.delete(
    "/memory/{fact_id}",
    response_model=Accepted,
    summary="Make the agent forget a fact",
    responses={
        **COMMAND_REFUSALS,
        **problem_responses(
            404, s404="No such fact remembered about you, or no such user (an admin's user_id)."
        ),
    },
)
async def forget_fact(fact_id: FactIdPath, context: Context, user_id: ActingForLive) -> Accepted:
    memory = context.services.memory
    await run_command(memory.forget, user_id, fact_id)
    return await accepted(context, Wait(None), application=memory.name, resource_id=fact_id)
