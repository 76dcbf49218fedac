"""A conversation: one per user and platform thread, and the agent's durable state.

Each turn records the user's message, the tool calls and their results, and the reply
with its token usage. A message delivered twice is recorded once, and a message gets at
most one reply: the duplicate-reply failure of other agent frameworks cannot happen.

A reply that asks the user for something a request misses ("above or below 300?")
records the request as the model holds it (`Clarification`), so the answer, the next
message, completes it even after a restart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from pydantic import Field

from aggregates.channels import Platform
from aggregates.errors import DomainError
from aggregates.model import (
    Aggregate,
    AggregateSnapshot,
    Immutable,
    SnapshotState,
    register_aggregate,
)

MessageId = Annotated[str, Field(min_length=1, max_length=128)]

_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/conversation")


def conversation_id(user_id: UUID, platform: str, thread_id: str) -> UUID:
    """The one conversation of a user's thread on a platform: the same id every time."""
    return uuid5(_NAMESPACE, f"{user_id}/{platform}/{thread_id}")


class TokenUsage(Immutable):
    model: str = Field(min_length=1, max_length=128)
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)


class UserMessage(Immutable):
    kind: Literal["user"] = "user"
    message_id: MessageId
    text: str
    received_at: datetime


class ToolCall(Immutable):
    kind: Literal["tool_call"] = "tool_call"
    call_id: MessageId
    in_reply_to: MessageId
    tool: str
    arguments: dict[str, Any]


class ToolResult(Immutable):
    kind: Literal["tool_result"] = "tool_result"
    call_id: MessageId
    output: Any = None
    error: str | None = None


class AgentReply(Immutable):
    kind: Literal["reply"] = "reply"
    reply_id: MessageId
    in_reply_to: MessageId
    text: str
    usage: TokenUsage | None = None


Turn = Annotated[UserMessage | ToolCall | ToolResult | AgentReply, Field(discriminator="kind")]


class Clarification(Immutable):
    """A request the agent asked the user to complete, in answer to `in_reply_to`:
    opaque here (the model that asked reads it back with the answer)."""

    in_reply_to: MessageId
    request: dict[str, Any]


class ConversationState(SnapshotState):
    user_id: UUID
    platform: Platform
    thread_id: str
    turns: list[Turn]
    input_tokens: int
    output_tokens: int
    awaiting: Clarification | None = None


class Conversation(Aggregate):
    """What was said in one thread, and what the agent did about it."""

    class Snapshot(AggregateSnapshot):
        state: ConversationState

    @staticmethod
    def create_id(user_id: UUID, platform: Platform, thread_id: str) -> UUID:
        """One conversation per user, platform and thread: the id is derived from them."""
        return conversation_id(user_id, platform, thread_id)

    @event("Started")
    def __init__(self, user_id: UUID, platform: Platform, thread_id: str) -> None:
        self.user_id = user_id
        self.platform = platform
        self.thread_id = thread_id
        self.turns: list[Turn] = []
        self.input_tokens = 0
        self.output_tokens = 0
        self.awaiting: Clarification | None = None
        """The latest request the agent asked the user to complete."""

    # -- queries ------------------------------------------------------------------------

    def message(self, message_id: str) -> UserMessage | None:
        return next(
            (t for t in self.turns if isinstance(t, UserMessage) and t.message_id == message_id),
            None,
        )

    def reply_to(self, message_id: str) -> AgentReply | None:
        return next(
            (t for t in self.turns if isinstance(t, AgentReply) and t.in_reply_to == message_id),
            None,
        )

    def holds(self, step: ToolCall | ToolResult) -> bool:
        """Whether this call, or a result of this call, is recorded already."""
        kind = type(step)
        return any(isinstance(t, kind) and t.call_id == step.call_id for t in self.turns)

    def clarification_for(self, message_id: str) -> Clarification | None:
        """The request the reply to `message_id` asked the user to complete, if any."""
        if self.awaiting is not None and self.awaiting.in_reply_to == message_id:
            return self.awaiting
        return None

    def _tool_call(self, call_id: str) -> ToolCall | None:
        return next(
            (t for t in self.turns if isinstance(t, ToolCall) and t.call_id == call_id), None
        )

    # -- commands -----------------------------------------------------------------------

    def receive(self, message: UserMessage) -> bool:
        """Record a user's message; False if this message id was recorded already."""
        if self.message(message.message_id) is not None:
            return False
        self._turn_recorded(message)
        return True

    def call_tool(self, call: ToolCall) -> None:
        self._require_unanswered(call.in_reply_to)
        if self._tool_call(call.call_id) is not None:
            raise DomainError(f"tool call {call.call_id} is recorded already")
        self._turn_recorded(call)

    def record_tool_result(self, result: ToolResult) -> None:
        if self._tool_call(result.call_id) is None:
            raise DomainError(f"no tool call {result.call_id} to record a result for")
        if any(isinstance(t, ToolResult) and t.call_id == result.call_id for t in self.turns):
            raise DomainError(f"the result of tool call {result.call_id} is recorded already")
        self._turn_recorded(result)

    def reply(self, reply: AgentReply) -> None:
        self._require_unanswered(reply.in_reply_to)
        self._replied(reply)

    def ask(self, clarification: Clarification) -> None:
        """Record the request the reply to a message will ask the user to complete
        (before that reply: an answered message asks nothing more)."""
        self._require_unanswered(clarification.in_reply_to)
        self._clarification_asked(clarification)

    def _require_unanswered(self, message_id: str) -> None:
        if self.message(message_id) is None:
            raise DomainError(f"no message {message_id} in this conversation")
        if self.reply_to(message_id) is not None:
            raise DomainError(f"message {message_id} has been answered already")

    # -- events -------------------------------------------------------------------------

    @event("TurnRecorded")
    def _turn_recorded(self, turn: Turn) -> None:
        self.turns.append(turn)

    @event("ClarificationAsked")
    def _clarification_asked(self, clarification: Clarification) -> None:
        self.awaiting = clarification

    @event("Replied")
    def _replied(self, reply: AgentReply) -> None:
        self.turns.append(reply)
        if reply.usage is not None:
            self.input_tokens += reply.usage.input_tokens
            self.output_tokens += reply.usage.output_tokens


register_aggregate(Conversation, "conversation")
