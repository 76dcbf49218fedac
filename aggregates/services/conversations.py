"""Conversations: one per user and platform thread; turns recorded as they happen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from aggregates.channels import Platform
from aggregates.conversation import (
    AgentReply,
    Clarification,
    Conversation,
    ToolCall,
    ToolResult,
    UserMessage,
    conversation_id,
)
from aggregates.errors import NotFoundError
from aggregates.services.base import Service
from aggregates.validation import validated


class Conversations(Service[Conversation]):
    """What users said to the agent and what it did."""

    name = "conversations"
    kind = "conversation"
    aggregate_class = Conversation
    snapshot_every = 50

    def receive(
        self,
        user_id: UUID,
        platform: Platform,
        thread_id: str,
        message: UserMessage | Mapping[str, Any],
    ) -> tuple[UUID, bool]:
        """Record a user's message (starting the conversation if new).

        Returns the conversation id and whether the message was new: a message
        delivered twice (a retry, a redelivery) is recorded once.
        """
        identifier, [new] = self.receive_many(user_id, platform, thread_id, [message])
        return identifier, new

    def receive_many(
        self,
        user_id: UUID,
        platform: Platform,
        thread_id: str,
        messages: Sequence[UserMessage | Mapping[str, Any]],
    ) -> tuple[UUID, list[bool]]:
        """Record a thread's messages, in order, in one load and one commit: a chat
        writing fast (a bot's backlog after a reconnect, a burst of messages) costs one
        round trip per burst, not one per message. Returns the conversation id and, per
        message, whether it was new. A message that fails validation refuses the whole
        call (nothing is recorded): the caller records the others on their own.
        """
        now = datetime.now(UTC)
        received = [_user_message(message, now) for message in messages]
        conversation = self._open(user_id, platform, thread_id)
        news = [conversation.receive(message) for message in received]
        if any(news):
            self.commit(conversation)
        return conversation.id, news

    def call_tool(self, conversation_id: UUID, call: ToolCall | Mapping[str, Any]) -> None:
        recorded = validated(ToolCall, call, field="call")
        self.change(conversation_id, lambda conversation: conversation.call_tool(recorded))

    def record_tool_result(
        self, conversation_id: UUID, result: ToolResult | Mapping[str, Any]
    ) -> None:
        recorded = validated(ToolResult, result, field="result")
        self.change(conversation_id, lambda conversation: conversation.record_tool_result(recorded))

    def reply(self, conversation_id: UUID, reply: AgentReply | Mapping[str, Any]) -> int | None:
        recorded = validated(AgentReply, reply, field="reply")
        return self.change(conversation_id, lambda conversation: conversation.reply(recorded))

    def fast_forward(self, conversation: Conversation) -> Conversation:
        """`conversation` brought up to date: only the events after its version are read
        (a caller that kept a long thread's conversation does not rebuild it)."""
        current: Conversation | None = conversation
        for event in self.events.get(conversation.id, gt=conversation.version):
            current = cast("Conversation.Event", event).mutate(current)
        assert current is not None
        return current

    def record_turn(
        self,
        conversation_id: UUID,
        steps: Sequence[ToolCall | ToolResult],
        reply: AgentReply | Mapping[str, Any],
        clarification: Clarification | None = None,
    ) -> int | None:
        """A turn's tool calls and results, the request its reply asks the user to
        complete (if any) and its reply, in one load and one commit: a long conversation
        is loaded once per turn, not once per step. A step recorded already (a call the
        agent journaled before running it) is not recorded again."""
        answer = validated(AgentReply, reply, field="reply")
        return self.change(
            conversation_id,
            lambda conversation: record_turn(conversation, steps, answer, clarification),
        )

    def _open(self, user_id: UUID, platform: Platform, thread_id: str) -> Conversation:
        identifier = conversation_id(user_id, platform, thread_id)
        try:
            existing: Conversation = self.load(identifier)
        except NotFoundError:
            return Conversation(user_id=user_id, platform=platform, thread_id=thread_id)
        return existing


def _user_message(message: UserMessage | Mapping[str, Any], now: datetime) -> UserMessage:
    """`message` validated; a mapping without a time was received `now`."""
    if isinstance(message, Mapping):
        return validated(UserMessage, {"received_at": now, **message}, field="message")
    return validated(UserMessage, message, field="message")


def record_turn(
    conversation: Conversation,
    steps: Sequence[ToolCall | ToolResult],
    reply: AgentReply,
    clarification: Clarification | None = None,
) -> None:
    """Record a turn on `conversation` (not committed): steps not held yet, the
    clarification, then the reply."""
    for step in steps:
        if conversation.holds(step):
            continue
        if isinstance(step, ToolCall):
            conversation.call_tool(step)
        else:
            conversation.record_tool_result(step)
    if clarification is not None:
        conversation.ask(clarification)
    conversation.reply(reply)
