"""Conversations with the agent from the web: post a message, list threads, read one.

Posting to a thread (``/conversations/threads/{thread_id}/messages``: the client names
its threads) records the user's message in the Conversation aggregate (platform
``web``); the agent answers from the log. A message is identified by the client's
`message_id`, so a client that retries after a timeout records it once and gets the same
receipt. Reading goes by the conversation's id, as listed (any platform).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Response
from pydantic import BaseModel, Field

from aggregates.channels import Platform
from aggregates.conversation import MessageId
from aggregates.services.conversations import Conversations
from api.auth import require_visible
from api.commands import COMMAND_REFUSALS, READ_RESPONSES, Accepted, accepted, run_command
from api.consistency import AfterWrites, read_after
from api.deps import ActingFor, ActingForLive, Context, UserKey, WaitFor
from api.pagination import DEFAULT_LIMIT, Page, page
from api.reading import Cursor, Limit, problem_responses
from projections.model import Document
from projections.readmodels.conversations import Conversations as ConversationsReadModel
from projections.readmodels.messages import Messages

router = APIRouter(prefix="/conversations", tags=["conversations"])

CONVERSATIONS = ConversationsReadModel.name
MESSAGES = Messages.name
ConversationsAfter = Annotated[AfterWrites, Depends(read_after(CONVERSATIONS))]
MessagesAfter = Annotated[AfterWrites, Depends(read_after(MESSAGES))]
WEB: Platform = "web"
MAX_TEXT = 16_000

ThreadId = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9_.:-]{1,128}$",
        description="The client's name for the thread: letters, digits, '_', '.', ':', '-'.",
    ),
]


class NewMessage(BaseModel):
    message_id: MessageId = Field(
        description="The client's id of the message: posting it again records nothing new."
    )
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class MessageAccepted(Accepted):
    """The receipt of a posted message; `id` is the conversation's."""

    message_id: str
    new: bool = Field(description="False when this message id had been recorded already.")


class ConversationPublic(BaseModel):
    id: UUID
    user_id: UUID
    platform: Platform
    thread_id: str
    started_at: datetime
    message_count: int
    last_message_at: datetime
    input_tokens: int
    output_tokens: int


class MessagePublic(BaseModel):
    id: str
    conversation_id: UUID
    seq: int
    """Orders a conversation's messages."""
    role: Literal["user", "tool_call", "tool_result", "agent"]
    message_id: str
    """The user's message id, the reply's or the tool call's."""
    in_reply_to: str | None
    tool: str | None
    text: str
    """A tool call's arguments and a tool result's output as JSON."""
    error: bool
    """A tool result that is an error message."""
    at: datetime


def _receive(
    conversations: Conversations, user_id: UUID, thread_id: str, message: NewMessage
) -> tuple[UUID, bool]:
    """Record the message; after a race with another post, again on the fresh state."""
    return conversations.retrying(
        lambda: conversations.receive(user_id, WEB, thread_id, message.model_dump())
    )


@router.post(
    "/threads/{thread_id}/messages",
    response_model=MessageAccepted,
    status_code=201,
    summary="Say something to the agent",
    responses={
        200: {"model": MessageAccepted, "description": "Recorded before: nothing changed."},
        **COMMAND_REFUSALS,
        **problem_responses(404, s404="No such user (an admin's user_id)."),
    },
)
async def post_message(
    thread_id: ThreadId,
    message: NewMessage,
    *,
    context: Context,
    user_id: ActingForLive,
    wait: WaitFor,
    response: Response,
) -> MessageAccepted:
    conversations = context.services.conversations
    conversation_id, new = await run_command(_receive, conversations, user_id, thread_id, message)
    if not new:
        response.status_code = 200
    receipt = await accepted(
        context,
        wait,
        application=conversations.name,
        resource_id=conversation_id,
    )
    return MessageAccepted(**receipt.model_dump(), message_id=message.message_id, new=new)


@router.get(
    "",
    response_model=Page[ConversationPublic],
    summary="Your conversations, latest first",
    responses=READ_RESPONSES,
)
async def list_conversations(
    context: Context,
    user_id: ActingFor,
    after: ConversationsAfter,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ConversationPublic]:
    await after.wait()
    collection = await context.read_models.collection(CONVERSATIONS)
    documents, next_cursor = await page(
        collection,
        {"user_id": str(user_id)},
        sort_field="last_message_at",
        limit=limit,
        cursor=cursor,
    )
    return Page[ConversationPublic](
        items=[ConversationPublic.model_validate({**d, "id": d["_id"]}) for d in documents],
        next_cursor=next_cursor,
    )


@router.get(
    "/{conversation_id}/messages",
    response_model=Page[MessagePublic],
    summary="A conversation's messages, oldest first",
    responses={
        **READ_RESPONSES,
        **problem_responses(404, s404="No such conversation, or another user's."),
    },
)
async def list_messages(
    conversation_id: UUID,
    context: Context,
    principal: UserKey,
    after: MessagesAfter,
    *,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[MessagePublic]:
    await after.wait()
    conversation = await _visible_conversation(context, principal, conversation_id)
    collection = await context.read_models.collection(MESSAGES)
    documents, next_cursor = await page(
        collection,
        {"conversation_id": conversation["_id"]},
        sort_field="seq",
        direction="asc",
        limit=limit,
        cursor=cursor,
    )
    return Page[MessagePublic](
        items=[MessagePublic.model_validate({**d, "id": d["_id"]}) for d in documents],
        next_cursor=next_cursor,
    )


async def _visible_conversation(
    context: Context, principal: UserKey, conversation_id: UUID
) -> Document:
    collection = await context.read_models.collection(CONVERSATIONS)
    document = await collection.find_one({"_id": str(conversation_id)})
    if document is None:
        raise HTTPException(404, f"no conversation {conversation_id}")
    require_visible(principal, document["user_id"], "conversation")
    return document
