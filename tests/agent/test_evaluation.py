"""The offline model on the evaluation set, through the real graph, router included.

Tools are replaced by recorders with the same names, argument models and nodes, so what
is measured is the decision (which tool, which arguments), not what the tools do.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

import handlers.agent.toolset  # noqa: F401 - registers the tools
from handlers.agent.graph import build_agent
from handlers.agent.offline import HELP, OfflineChatModel
from handlers.agent.tools import AGENT_TOOLS, AgentTool, ToolRegistry
from tests.agent.eval_set import EVALUATION

TARGET_ACCURACY = 0.95


def recording_registry(calls: list[tuple[str, dict[str, Any]]]) -> ToolRegistry:
    registry = ToolRegistry()
    for node in AGENT_TOOLS.nodes():
        for tool in AGENT_TOOLS.for_node(node):
            if registry.get(tool.name) is not None:
                continue

            async def record(_: Any, arguments: Any, name: str = tool.name) -> dict[str, Any]:
                calls.append((name, arguments.model_dump(exclude_defaults=True)))
                return {"recorded": name}

            registry.add(
                AgentTool(
                    tool.name, tool.description, tool.arguments, record, tool.nodes, tool.confirm
                )
            )
    return registry


async def decision(text: str) -> tuple[str, dict[str, Any]] | None:
    """The first tool call the graph's specialist made for `text` (None: it made none)."""
    graph = build_agent(lambda node: OfflineChatModel(), recording_registry([]), None, "test")
    state = await graph.ainvoke({"messages": [HumanMessage(text)]})
    for message in state["messages"]:
        if isinstance(message, AIMessage) and message.tool_calls:
            call = message.tool_calls[0]
            return call["name"], call["args"]
    return None


def same(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(actual.get(key) == value for key, value in expected.items())


async def test_the_offline_model_makes_the_expected_calls_on_the_evaluation_set() -> None:
    assert len(EVALUATION) >= 40
    misses = []
    for text, tool, arguments in EVALUATION:
        made = await decision(text)
        if made is None or made[0] != tool or not same(arguments, made[1]):
            misses.append((text, made))
    accuracy = 1 - len(misses) / len(EVALUATION)
    print(f"evaluation accuracy: {accuracy:.1%} ({len(EVALUATION)} messages); missed: {misses}")
    assert accuracy >= TARGET_ACCURACY, misses


@pytest.mark.parametrize("text", ["who are you?", "are you a bot"])
async def test_it_says_what_it_is(text: str) -> None:
    graph = build_agent(lambda node: OfflineChatModel(), recording_registry([]), None, "test")
    state = await graph.ainvoke({"messages": [HumanMessage(text)]})
    assert state["messages"][-1].content == HELP


async def test_it_says_when_it_does_not_understand() -> None:
    graph = build_agent(lambda node: OfflineChatModel(), recording_registry([]), None, "test")
    state = await graph.ainvoke({"messages": [HumanMessage("write me a poem about the moon")]})
    reply = state["messages"][-1]
    assert str(reply.content).startswith("I did not understand that.")
    assert not getattr(reply, "tool_calls", None)
