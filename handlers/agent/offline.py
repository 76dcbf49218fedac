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
provider's would, labelled with this model's name. It streams like a provider too (a
word per chunk), so a graph streamed with ``stream_mode="messages"`` shows its tokens.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable

from handlers.agent.answers import compose
from handlers.agent.intents import IDENTITY, parse
from handlers.agent.memory import remembered_in
from handlers.agent.specs import OFFLINE_MODEL

MODEL_NAME = OFFLINE_MODEL
ROUTE_TOOL = "route"
"""The router's one tool: `route(node)`; the offline model picks the node that owns the
tool the message asks for (`node_of`, given in the tool's description)."""

HELP = (
    "I am Impressox's offline model: I run without any AI provider and understand a fixed"
    ' set of requests. Try: "price of ETH", "alert me when BTC goes above 100000",'
    ' "alert me when SOL moves 5% in an hour", "alert me when people mention SOL with'
    ' 500 likes", "list my alerts", "pause alert 2", "what are people saying about SOL",'
    ' "what\'s trending", "watch wallet 0x…", "follow @account", "I hold 2 ETH", "what'
    ' do you remember about me". Configure a real model for open conversation.'
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
        return ChatResult(generations=[ChatGeneration(message=self._answer(messages, kwargs))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in _chunks(self._answer(messages, kwargs)):
            yield ChatGenerationChunk(message=chunk)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        """As `_stream`, on the event loop: the answer is computed, not waited for."""
        for chunk in _chunks(self._answer(messages, kwargs)):
            yield ChatGenerationChunk(message=chunk)

    def _answer(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        tools: list[dict[str, Any]] = kwargs.get("tools", [])
        reply = self._reply(messages, {t["function"]["name"]: t for t in tools})
        words_in = sum(len(str(message.content).split()) for message in messages)
        reply.usage_metadata = {
            "input_tokens": words_in,
            "output_tokens": len(str(reply.content).split()),
            "total_tokens": words_in + len(str(reply.content).split()),
        }
        reply.response_metadata = {"model_name": MODEL_NAME}
        return reply

    def _reply(self, messages: list[BaseMessage], tools: dict[str, dict[str, Any]]) -> AIMessage:
        results = _trailing_results(messages)
        if results:
            return AIMessage(content=compose(results, remembered_in(messages)))
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


def _chunks(reply: AIMessage) -> list[AIMessageChunk]:
    """The reply as a provider would stream it: its text a word at a time (each word with
    the whitespace after it, so the pieces join to the text), its tool calls whole in one
    chunk, and usage and the model's name once, on the last chunk (chunks' metadata add
    up when merged)."""
    pieces = [
        AIMessageChunk(content=word) for word in re.split(r"(?<=\s)(?=\S)", str(reply.content))
    ]
    if reply.tool_calls:
        pieces.append(
            AIMessageChunk(
                content="",
                tool_call_chunks=[
                    tool_call_chunk(
                        name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=i
                    )
                    for i, call in enumerate(reply.tool_calls)
                ],
            )
        )
    last = pieces.pop()
    pieces.append(
        AIMessageChunk(
            content=last.content,
            tool_call_chunks=last.tool_call_chunks,
            usage_metadata=reply.usage_metadata,
            response_metadata=reply.response_metadata,
            chunk_position="last",
        )
    )
    return pieces


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
