"""A conversation as the agent's graph reads it, and a turn as the conversation records it.

Shared by the `agent` worker (`turns`) and the evaluation (`evaluation.runner`, with a
conversation held in memory), so a model is given the same history, pending action and
pending request in both, and its turn is recorded the same way:

- `graph_input`: the recent messages and replies; the calls awaiting the user's yes
  (a confirm tool's calls without a result, made in the turn just before); the reply
  to the previous message carries the request it asked the user to complete
  (`marks.CLARIFICATION`), which the offline model reads back;
- `steps`, `clarification_of`: what a turn adds to the conversation.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from agent.journal import call_id_for
from agent.marks import CLARIFICATION
from agent.tools import ToolRegistry
from aggregates.conversation import (
    AgentReply,
    Clarification,
    Conversation,
    ToolCall,
    ToolResult,
    UserMessage,
)

HISTORY_TURNS = 20
"""Earlier messages and replies given to the model: the conversation's recent past."""


def graph_input(
    conversation: Conversation, message: UserMessage, registry: ToolRegistry
) -> dict[str, Any]:
    """The graph's input for answering `message` (recorded on `conversation`)."""
    return {
        "messages": [*history(conversation, message.message_id), HumanMessage(message.text)],
        "pending": pending(conversation, message.message_id, registry),
    }


def history(conversation: Conversation, current: str) -> list[AnyMessage]:
    """The recent messages and replies before `current`, as the model reads them.

    Walked from the end: a long thread's older turns are never made into messages
    (building one costs ~50 µs, which a 300-turn thread paid 600 times a turn)."""
    recent: list[UserMessage | AgentReply] = []
    for turn in reversed(conversation.turns):
        if len(recent) == HISTORY_TURNS:
            break
        if isinstance(turn, AgentReply) or (
            isinstance(turn, UserMessage) and turn.message_id != current
        ):
            recent.append(turn)
    previous = _previous_message(conversation, current)
    asked = conversation.clarification_for(previous) if previous is not None else None
    messages: list[AnyMessage] = []
    for turn in reversed(recent):
        if isinstance(turn, UserMessage):
            messages.append(HumanMessage(turn.text))
        elif asked is not None and turn.in_reply_to == previous:
            messages.append(AIMessage(turn.text, additional_kwargs={CLARIFICATION: asked.request}))
        else:
            messages.append(AIMessage(turn.text))
    return messages


def pending(
    conversation: Conversation, current: str, registry: ToolRegistry
) -> list[dict[str, Any]] | None:
    """The calls awaiting confirmation: confirm-tools' calls without a result, made in
    the turn just before `current` (a confirmation answers the question just asked)."""
    previous = _previous_message(conversation, current)
    if previous is None:
        return None
    answered = {t.call_id for t in conversation.turns if isinstance(t, ToolResult)}
    waiting = [
        {"name": turn.tool, "args": turn.arguments, "id": turn.call_id}
        for turn in conversation.turns
        if isinstance(turn, ToolCall)
        and turn.in_reply_to == previous
        and turn.call_id not in answered
        and (tool := registry.get(turn.tool)) is not None
        and tool.confirm
    ]
    return waiting or None


def _previous_message(conversation: Conversation, current: str) -> str | None:
    users = [t.message_id for t in conversation.turns if isinstance(t, UserMessage)]
    position = users.index(current) if current in users else len(users)
    return users[position - 1] if position > 0 else None


def steps(
    conversation: Conversation,
    message_id: str,
    messages: list[AnyMessage],
    waiting: list[dict[str, Any]] | None,
) -> list[ToolCall | ToolResult]:
    """The turn's calls and results as the conversation records them. A call confirmed
    now was recorded with the turn that asked: only its result is new; a call awaiting
    confirmation is recorded without a result."""
    known = {t.call_id for t in conversation.turns if isinstance(t, ToolCall)}
    unanswered = {call["id"] for call in waiting or []}

    def stored(call_id: str) -> str:
        """The id a call of this turn is recorded under: derived from the model's, unless
        it was recorded by an earlier turn (a confirmed call, when nothing journaled
        its run in this one)."""
        derived = call_id_for(message_id, call_id)
        return call_id if call_id in known and derived not in known else derived

    recorded: list[ToolCall | ToolResult] = []
    for message in messages:
        if isinstance(message, AIMessage):
            recorded += [
                ToolCall(
                    call_id=stored(str(call["id"])),
                    in_reply_to=message_id,
                    tool=call["name"],
                    arguments=call["args"],
                )
                for call in message.tool_calls
                if stored(str(call["id"])) not in known
            ]
        elif isinstance(message, ToolMessage) and message.tool_call_id not in unanswered:
            output = str(message.content)
            recorded.append(ToolResult(call_id=stored(message.tool_call_id), output=output))
    return recorded


def clarification_of(reply: AnyMessage, message_id: str) -> Clarification | None:
    """The request a turn's reply asks the user to complete, if it asks one."""
    request = reply.additional_kwargs.get(CLARIFICATION) if isinstance(reply, AIMessage) else None
    if not isinstance(request, dict):
        return None
    return Clarification(in_reply_to=message_id, request=request)


def calls_of(conversation: Conversation, message_id: str) -> list[ToolCall]:
    return [
        t for t in conversation.turns if isinstance(t, ToolCall) and t.in_reply_to == message_id
    ]
