"""The offline model: a langchain chat model that calls tools deterministically.

It is what `make run` and the tests talk to, and it is named for what it is
(``impressox-offline``). It supports `bind_tools` like a real provider's model, so the
graph runs unchanged on either:

- given a user message it recognises (`intents.parse`), it answers with the same tool
  call a real model would make, if that tool is bound;
- given tool results, it composes the answer from them (`answers.compose`);
- asked what it is, it says so; given anything else, it says it did not understand and
  lists what it can do, rather than guessing.

Token usage is counted in whitespace-separated words, so replies carry usage like a
provider's would, labelled with this model's name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable

from handlers.agent.answers import compose
from handlers.agent.intents import IDENTITY, parse

MODEL_NAME = "impressox-offline"
ROUTE_TOOL = "route"
"""The router's one tool: `route(node)`; the offline model picks the node that owns the
tool the message asks for (`node_of`, given in the tool's description)."""

HELP = (
    "I am Impressox's offline model: I run without any AI provider and understand a fixed"
    ' set of requests. Try: "price of ETH", "alert me when BTC goes above 100000",'
    ' "alert me when SOL moves 5% in an hour", "list my alerts", "pause alert 2",'
    ' "what are people saying about SOL", "what\'s trending", "watch wallet 0x…",'
    ' "follow @account". Configure a real model for open conversation.'
)


class OfflineChatModel(BaseChatModel):
    """Deterministic, tool-calling, offline. See the module docstring."""

    @property
    def _llm_type(self) -> str:
        return MODEL_NAME

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        schemas = [tool for tool in tools if isinstance(tool, dict)]
        return self.bind(tools=schemas, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools: list[dict[str, Any]] = kwargs.get("tools", [])
        reply = self._reply(messages, {t["function"]["name"]: t for t in tools})
        words_in = sum(len(str(message.content).split()) for message in messages)
        reply.usage_metadata = {
            "input_tokens": words_in,
            "output_tokens": len(str(reply.content).split()),
            "total_tokens": words_in + len(str(reply.content).split()),
        }
        reply.response_metadata = {"model_name": MODEL_NAME}
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def _reply(self, messages: list[BaseMessage], tools: dict[str, dict[str, Any]]) -> AIMessage:
        results = _trailing_results(messages)
        if results:
            return AIMessage(content=compose(results))
        question = _last_human(messages)
        if IDENTITY.search(question):
            return AIMessage(content=HELP)
        intent = parse(question)
        if intent is None:
            return AIMessage(content=f"I did not understand that. {HELP}")
        if ROUTE_TOOL in tools:
            node = _node_owning(tools[ROUTE_TOOL], intent.tool)
            return _calling(ROUTE_TOOL, {"node": node}, question)
        if intent.tool in tools:
            return _calling(intent.tool, intent.arguments, question)
        return AIMessage(content=f"I cannot do that here. {HELP}")


def _calling(tool: str, arguments: dict[str, Any], question: str) -> AIMessage:
    call_id = "call_" + hashlib.sha256(f"{tool}:{question}".encode()).hexdigest()[:16]
    return AIMessage(content="", tool_calls=[{"name": tool, "args": arguments, "id": call_id}])


def _last_human(messages: list[BaseMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return str(message.content)
    return ""


def _trailing_results(messages: list[BaseMessage]) -> list[tuple[str, str]]:
    """The (tool name, result) pairs after the last tool-calling AI message, if the
    conversation ends with them: the model's cue to answer from them."""
    results: list[tuple[str, str]] = []
    for message in reversed(messages):
        if isinstance(message, ToolMessage):
            results.append((message.name or "", str(message.content)))
            continue
        break
    return list(reversed(results))


def _node_owning(route: dict[str, Any], tool: str) -> str:
    """The node whose tools include `tool`, from the route tool's `node` description
    (``tool_name=node`` pairs), else "chat"."""
    description = str(route["function"]["parameters"]["properties"]["node"].get("description"))
    owners = dict(pair.split("=", 1) for pair in description.split() if "=" in pair)
    return owners.get(tool, "chat")
