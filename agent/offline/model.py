"""The offline model: a langchain chat model that calls tools deterministically.

It is what `make run` and the tests talk to, and it is named for what it is
(``impressox-offline``). It supports `bind_tools` like a real provider's model, so the
graph runs unchanged on either:

- given a user message, it decides (`understanding`) and makes the tool calls a real
  model would make, if those tools are bound (several at once for "btc and eth");
- when something the request needs is missing, it asks for it and carries the request
  on its reply (`marks.CLARIFICATION`); the next message, with that reply before it,
  is read as the answer;
- given tool results, it composes the answer from them (`answers.compose`);
- greetings, thanks, help and what it cannot do are answered in words, each reply
  marked with what it is (`marks.INTENT`).

The coins it knows are the system's (`SymbolBook`: configured, and seen in prices).

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
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict, Field, PrivateAttr

from agent import marks
from agent.answers import compose
from agent.confirmation import answer
from agent.graph import CHAT, ROUTE_TOOL
from agent.memory import remembered_in
from agent.offline.clarification import Pending
from agent.offline.replies import HELP
from agent.offline.understanding import Decision, Understanding
from agent.offline.vocabulary import SymbolBook
from agent.specs import OFFLINE_MODEL
from aggregates.memory import understand as understand_fact

MODEL_NAME = OFFLINE_MODEL
NOTHING_PENDING = "There is nothing waiting for a yes or a no right now. " + HELP
REMEMBER_VERB = re.compile(r"^\s*(?:please\s+)?(?:remember|note|fyi)[:,]?\s+(?:that\s+)?", re.I)
"""What leads a fact told in the conversation ("remember that I hold 2 ETH")."""
MAX_BARE_ANSWER = 4
"""Words of a yes or a no said with nothing asked ("yes do it"); longer is a request."""


class OfflineChatModel(BaseChatModel):
    """Deterministic, tool-calling, offline. See the module docstring."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    symbols: SymbolBook = Field(default_factory=SymbolBook)
    """The pairs the system can price: the coins it understands beyond the coin table."""
    _understanding: Understanding | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return MODEL_NAME

    def model_post_init(self, context: Any, /) -> None:
        """Build the vocabulary with the model (at a worker's start), not in a turn."""
        super().model_post_init(context)
        self._understanding = Understanding(self.symbols)

    @property
    def understanding(self) -> Understanding:
        assert self._understanding is not None
        return self._understanding

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
        said, asked, earlier = _last_exchange(messages)
        decision = self._decide(said, asked, earlier)
        if decision.label == "holdings":
            said_before = [str(m.content) for m in messages if isinstance(m, HumanMessage)]
            decision = self._holdings(decision, [*remembered_in(messages), *said_before])
        if ROUTE_TOOL in tools:
            first = decision.calls[0][0] if decision.calls else None
            node = _node_owning(tools[ROUTE_TOOL], first) if first else CHAT
            return _calling([(ROUTE_TOOL, {"node": node})], said)
        if decision.calls:
            if all(tool in tools for tool, _ in decision.calls):
                return _calling(list(decision.calls), said)
            return _saying(f"I cannot do that here. {HELP}", "unsupported")
        return _saying(decision.text, decision.label, decision.pending)

    def _decide(self, said: str, asked: Pending | None, earlier: str | None) -> Decision:
        decision = self.understanding.decide(said, asked, earlier=earlier)
        short = len(said.split()) <= MAX_BARE_ANSWER
        if decision.label == "unsupported" and short and answer(said) is not None:
            return Decision("unsupported", text=NOTHING_PENDING)  # "yes", nothing asked
        return decision

    def _holdings(self, decision: Decision, memory: list[str]) -> Decision:
        """ "what's my bag worth": the price of each coin the user said they hold (the
        answer then values the holding), or how to tell what they hold."""
        assets = []
        for fact in memory:
            subject, fields = understand_fact(REMEMBER_VERB.sub("", fact))
            if subject == "holding" and fields.get("asset"):
                assets.append(str(fields["asset"]).upper())
        if not assets:
            return decision
        book = self.understanding.book
        calls = tuple(("get_price", {"symbol": book.pair(a)}) for a in dict.fromkeys(assets))
        return Decision("get_price", calls=calls)


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
            additional_kwargs=reply.additional_kwargs,
            usage_metadata=reply.usage_metadata,
            response_metadata=reply.response_metadata,
            chunk_position="last",
        )
    )
    return pieces


def _calling(calls: list[tuple[str, dict[str, Any]]], question: str) -> AIMessage:
    made = []
    for number, (tool, arguments) in enumerate(calls):
        key = f"{tool}:{number}:{question}"
        made.append({"name": tool, "args": arguments, "id": "call_" + _digest(key)})
    return AIMessage(content="", tool_calls=made)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _saying(text: str, intent: str, pending: Pending | None = None) -> AIMessage:
    """A reply in words, marked with what it is and, when it asks, the request pending."""
    carried: dict[str, Any] = {marks.INTENT: intent}
    if pending is not None:
        carried[marks.CLARIFICATION] = pending.as_dict()
    return AIMessage(content=text, additional_kwargs=carried)


def _last_exchange(messages: list[BaseMessage]) -> tuple[str, Pending | None, str | None]:
    """The user's last message, the request the reply before it asked to complete, and
    the user's message before (what "it" may name)."""
    said = [i for i, message in enumerate(messages) if isinstance(message, HumanMessage)]
    if not said:
        return "", None, None
    last = said[-1]
    before = next((m for m in reversed(messages[:last]) if not isinstance(m, SystemMessage)), None)
    asked = None
    if isinstance(before, AIMessage):
        asked = Pending.from_dict(before.additional_kwargs.get(marks.CLARIFICATION))
    earlier = str(messages[said[-2]].content) if len(said) > 1 else None
    return str(messages[last].content), asked, earlier


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
    return owners.get(tool, CHAT)
