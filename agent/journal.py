"""A turn's journal: a tool call that changes something is recorded before it runs.

Without it, a crash between a tool's effect and the turn's commit runs the model again
on redelivery, and the model makes the call again (a real one even names it anew): a
second rule. With the call on the record first, the redelivered message finds the
calls its interrupted turn began, and each is settled by its effect (`tools.Effect`):

- a repeatable call runs again under its recorded id, and finds its first run's work
  (the rule it created has the id derived from that call's id);
- a call that only reads runs again;
- a once call does not run again: its result says it was interrupted, so the user
  checks instead of the agent guessing.

Reads are not journaled: recording them would cost a commit each for nothing.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from agent.context import AgentContext
from agent.tools import ToolRegistry
from aggregates.conversation import Conversation, ToolCall, ToolResult
from aggregates.errors import ConcurrentUpdateError
from aggregates.services.bundle import Services

TURN_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/agent-reply")


def call_id_for(message_id: str, model_call_id: str) -> str:
    """A call's id in the conversation: unique to its turn, whatever the model named it
    (the offline model names a call after the question, which a user may ask twice)."""
    return str(uuid5(TURN_NAMESPACE, f"{message_id}/{model_call_id}"))


class TurnJournal:
    """Records the calls of one turn, on the conversation the turn loaded."""

    def __init__(
        self,
        services: Services,
        conversation: Conversation,
        message_id: str,
        context: AgentContext,
    ) -> None:
        self.services = services
        self.conversation = conversation
        """The turn's conversation; loaded anew if another writer changed it meanwhile."""
        self.message_id = message_id
        self.context = context

    async def begin(self, call_id: str, name: str, arguments: dict[str, Any]) -> AgentContext:
        stored = call_id_for(self.message_id, call_id)
        call = ToolCall(call_id=stored, in_reply_to=self.message_id, tool=name, arguments=arguments)
        await asyncio.to_thread(self._record, call)
        return replace(self.context, call_id=stored)

    def _record(self, call: ToolCall) -> None:
        conversations = self.services.conversations
        try:
            self.conversation.call_tool(call)
            conversations.commit(self.conversation)
        except ConcurrentUpdateError:  # a message arrived meanwhile: record on the newest
            self.conversation = conversations.load(self.conversation.id)
            self.conversation.call_tool(call)
            conversations.commit(self.conversation)


async def settle(
    registry: ToolRegistry,
    conversation: Conversation,
    calls: list[ToolCall],
    context: AgentContext,
) -> tuple[list[tuple[str, str]], list[ToolResult]]:
    """The outputs of an interrupted turn's calls (tool, output), and the results it
    still has to record: each call without a result is settled by its effect."""
    recorded = {t.call_id: t for t in conversation.turns if isinstance(t, ToolResult)}
    outputs: list[tuple[str, str]] = []
    missing: list[ToolResult] = []
    for call in calls:
        result = recorded.get(call.call_id)
        if result is None:
            result = ToolResult(call_id=call.call_id, output=await _rerun(registry, call, context))
            missing.append(result)
        outputs.append((call.tool, str(result.output)))
    return outputs, missing


async def _rerun(registry: ToolRegistry, call: ToolCall, context: AgentContext) -> str:
    tool = registry.get(call.tool)
    if tool is not None and tool.effect == "once":
        interrupted = (
            f"{call.tool} was interrupted and may or may not have run; check before asking again"
        )
        return json.dumps({"error": interrupted})
    keyed = replace(context, call_id=call.call_id)
    return (await registry.call(keyed, call.tool, call.arguments)).content
