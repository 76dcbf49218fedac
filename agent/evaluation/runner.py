"""Running an evaluation set through the real graph, one conversation at a time.

Every tool is replaced by a recorder of the same name, arguments and node, so what is
measured is the decision (which tool, which arguments), not what the tools do. Each case
is a conversation held in memory: its messages, calls, pending confirmations and
clarifications are recorded on a `Conversation` aggregate and given to the graph through
the same functions the `agent` worker uses (`thread`), so a multi-turn case is judged as
a user would live it. The system prompt is the default persona's, as in production.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage

from agent import marks
from agent.evaluation.dataset import Case, EvaluationSet, Expectation, Made, judged
from agent.graph import acting_for, build_agent
from agent.persona import Persona
from agent.thread import clarification_of, graph_input, steps
from agent.tools import AGENT_TOOLS, AgentTool, ToolRegistry
from aggregates.conversation import AgentReply, Conversation, UserMessage
from aggregates.services.conversations import record_turn

ModelFor = Callable[[list[str]], BaseChatModel]
"""The model to evaluate, given the symbols the set's system is configured with."""


@dataclass(frozen=True)
class Judged:
    """One message of a set, what it should have become, and what it became."""

    case: int
    turn: int
    style: str
    says: str
    expected: Expectation
    made: Made
    right: bool


def recorders() -> ToolRegistry:
    """Every registered tool, doing nothing: the graph and the model decide as usual."""
    registry = ToolRegistry()
    tools = {t.name: t for node in AGENT_TOOLS.nodes() for t in AGENT_TOOLS.for_node(node)}
    for tool in tools.values():

        async def record(_: Any, arguments: Any) -> dict[str, Any]:
            return {}

        registry.add(
            AgentTool(tool.name, tool.description, tool.arguments, record, tool.nodes, tool.confirm)
        )
    return registry


async def run(model_for: ModelFor, evaluation_set: EvaluationSet) -> list[Judged]:
    """Every message of the set, judged."""
    registry = recorders()
    model = model_for(list(evaluation_set.symbols))
    graph = build_agent(lambda node: model, registry, Persona().prompt())
    judgements: list[Judged] = []
    for number, case in enumerate(evaluation_set.cases):
        judgements += await _conversation(graph, registry, number, case)
    return judgements


async def _conversation(
    graph: Any, registry: ToolRegistry, number: int, case: Case
) -> list[Judged]:
    conversation = Conversation(user_id=uuid4(), platform="web", thread_id=f"case-{number}")
    judgements = []
    for position, turn in enumerate(case.turns):
        now = datetime.now(UTC)
        message = UserMessage(message_id=f"m{position}", text=turn.says, received_at=now)
        conversation.receive(message)
        given = graph_input(conversation, message, registry)
        state = await graph.ainvoke(given, acting_for(None))
        new = state["messages"][len(given["messages"]) :]
        made = _made(new, given["pending"])
        judgements.append(
            Judged(
                number,
                position,
                case.style,
                turn.says,
                turn.expect,
                made,
                judged(turn.expect, made, now),
            )
        )
        final = new[-1] if new else AIMessage("")
        reply = AgentReply(
            reply_id=f"r{position}", in_reply_to=message.message_id, text=str(final.text)
        )
        record_turn(
            conversation,
            steps(conversation, message.message_id, new, state.get("pending")),
            reply,
            clarification_of(final, message.message_id),
        )
    return judgements


def _made(new: list[AnyMessage], waiting: list[dict[str, Any]] | None) -> Made:
    """What the graph made of a message: the first calls, a confirmed pending action,
    or its reply (marked, or judged by its shape: a question or not)."""
    calling = next((m for m in new if isinstance(m, AIMessage) and m.tool_calls), None)
    if calling is not None:
        waited = {call["id"] for call in waiting or []}
        if waited and {call["id"] for call in calling.tool_calls} <= waited:
            return Made(reply="confirmed")
        return Made(calls=tuple((call["name"], call["args"]) for call in calling.tool_calls))
    final = new[-1] if new else None
    text = str(final.text) if final is not None else ""
    marked = final.additional_kwargs.get(marks.INTENT) if isinstance(final, AIMessage) else None
    if marked is not None:
        return Made(reply=str(marked), text=text)
    return Made(reply="question" if "?" in text else "reply", text=text)
