"""The offline model on the evaluation set, through the real graph, router included."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage

import handlers.agent.toolset  # noqa: F401 - registers the tools
from handlers.agent.evaluation import EVALUATION, evaluate, recorders
from handlers.agent.graph import build_agent
from handlers.agent.offline import HELP, OfflineChatModel

TARGET_ACCURACY = 0.95


async def test_the_offline_model_makes_the_expected_calls_on_the_evaluation_set() -> None:
    assert len(EVALUATION) >= 40
    result = await evaluate(OfflineChatModel())
    print(
        f"evaluation accuracy: {result.accuracy:.1%} of {len(EVALUATION)}; missed {result.misses}"
    )
    assert result.accuracy >= TARGET_ACCURACY, result.misses


@pytest.mark.parametrize("text", ["who are you?", "are you a bot"])
async def test_it_says_what_it_is(text: str) -> None:
    graph = build_agent(lambda node: OfflineChatModel(), recorders(), "test")
    state = await graph.ainvoke({"messages": [HumanMessage(text)]})
    assert state["messages"][-1].content == HELP


async def test_it_says_when_it_does_not_understand() -> None:
    graph = build_agent(lambda node: OfflineChatModel(), recorders(), "test")
    state = await graph.ainvoke({"messages": [HumanMessage("write me a poem about the moon")]})
    reply = state["messages"][-1]
    assert str(reply.content).startswith("I did not understand that.")
    assert not getattr(reply, "tool_calls", None)
