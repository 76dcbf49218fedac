"""A turn of the agent: each user message in a conversation gets exactly one reply.

The `agent` handler (`agent.handler`) hands every recorded user message of the
conversations application's log to `Turns.handle`.
The Conversation aggregate is the agent's durable state (no separate checkpointer):
the turn's tool calls, their results and the reply are recorded on it, with the
message's correlation id, and everything the tools do is a command or a read of the
system's own.

Exactly one reply, under any redelivery:

- a message that has a reply is skipped;
- a tool call that changes something is recorded before it runs (`journal`); the
  turn's other calls, their results and the reply are recorded in one commit;
- a message whose turn began calls but has no reply (a crash midway) is answered from
  those calls, each settled by its effect: run again where that is safe, reported as
  interrupted where it is not; the model is not asked again;
- the reply is refused by the aggregate if another worker answered first.

A tool that needs confirmation is recorded as a call without a result: the pending
action. The next message, if it confirms ("yes"), runs it; anything else drops it. A
reply that asks the user to complete a request records that request with the reply
(`conversation.clarification_asked`); the next message is given it back (`thread`).

The offline model knows the coins the system prices: the configured symbols, and those
seen in the `prices` read model since (`refresh_symbols`, at most every
`SYMBOLS_REFRESH_S`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

import structlog
from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage
from langchain_core.runnables import RunnableConfig
from pymongo.errors import PyMongoError

import agent.toolset  # noqa: F401 - registers every node's tools (the graph binds them)
import projections.readmodels  # noqa: F401 - registers the read models the tools read
from agent.answers import compose
from agent.context import AgentContext
from agent.graph import acting_for, build_agent
from agent.handler_context import AgentHandlerContext
from agent.journal import TURN_NAMESPACE, TurnJournal, settle
from agent.memory import recall
from agent.models import token_usage
from agent.specs import AGENT_NODES
from agent.streaming import ReplyStream
from agent.thread import calls_of, clarification_of, graph_input, steps
from agent.tools import AGENT_TOOLS
from aggregates.conversation import (
    AgentReply,
    Clarification,
    Conversation,
    ToolCall,
    ToolResult,
    UserMessage,
)
from aggregates.errors import ConcurrentUpdateError, DomainError
from aggregates.services.bundle import Services
from aggregates.services.conversations import record_turn
from events.envelope import RecordedEvent
from events.errors import ImpressoxError
from handlers.declaration import HandlerResult
from projections.readmodels.prices import Prices

if TYPE_CHECKING:
    pass

log = structlog.get_logger(__name__)

RECENT_CONVERSATIONS = 256
"""Conversations a worker holds after answering, for their threads' next messages."""
SYMBOLS_REFRESH_S = 60.0
"""How often a worker reads the symbols priced so far, for the offline model."""


def reply_id(message_id: str) -> str:
    """The reply's id, derived from the message: the same on every attempt."""
    return str(uuid5(TURN_NAMESPACE, message_id))


class Turns:
    def __init__(self, context: AgentHandlerContext) -> None:
        self.store = context.store
        self.services = context.services
        self.read_models = context.read_models
        self.rule_health = context.rule_health
        self.models = context.models
        self.graph = build_agent(self.models, AGENT_TOOLS, context.persona)
        self._symbols_read_at = float("-inf")
        self.knowledge = context.knowledge
        """Opened on the first search (it reads what the `knowledge` worker wrote)."""
        self.recent: dict[UUID, Conversation] = {}
        """Conversations this worker committed last, oldest first (see `_load`)."""
        for node in AGENT_NODES:  # built now (the offline model's vocabulary), not in a turn
            self.models(node)

    async def handle(self, recorded: RecordedEvent) -> HandlerResult:
        turn: Any = getattr(recorded.event.payload, "turn", None)
        if not isinstance(turn, UserMessage):
            return None  # the agent's own tool calls and results
        conversation_id = UUID(recorded.event.key)
        conversation = await asyncio.to_thread(self._load, conversation_id)
        if conversation.reply_to(turn.message_id) is not None:
            return None  # answered already: a redelivery
        started = calls_of(conversation, turn.message_id)
        if started:  # an interrupted turn: settle the calls it began, then answer
            context = await self._context(conversation, turn)
            outputs, results = await settle(AGENT_TOOLS, conversation, started, context)
            answer = compose(outputs)
            await self._reply(conversation_id, turn.message_id, answer, None, recorded=results)
            return None
        await self._answer(conversation, turn)
        return None

    def _load(self, conversation_id: UUID) -> Conversation:
        """The conversation now: the one this worker last committed, fast-forwarded, or
        loaded (taken out of `recent` meanwhile: a turn that fails leaves nothing stale)."""
        held = self.recent.pop(conversation_id, None)
        if held is None:
            loaded: Conversation = self.services.conversations.load(conversation_id)
            return loaded
        return self.services.conversations.fast_forward(held)

    def _keep(self, conversation: Conversation) -> None:
        """Hold a conversation just committed, for its thread's next message."""
        self.recent[conversation.id] = conversation
        if len(self.recent) > RECENT_CONVERSATIONS:
            del self.recent[next(iter(self.recent))]

    async def _context(self, conversation: Conversation, message: UserMessage) -> AgentContext:
        return AgentContext(
            conversation.user_id,
            self.services,
            self.read_models,
            self.knowledge,
            conversation_id=conversation.id,
            message_id=message.message_id,
            rule_health=self.rule_health,
        )

    async def _answer(self, conversation: Conversation, message: UserMessage) -> None:
        await self.refresh_symbols()
        context = await self._context(conversation, message)
        journal = TurnJournal(self.services, conversation, message.message_id, context)
        given = graph_input(conversation, message, AGENT_TOOLS)
        stream = ReplyStream(
            self.store.redis,
            self.store.names.reply_channel(str(conversation.id)),
            str(conversation.id),
            message.message_id,
        )
        state = await self._run_graph(
            given | {"memory": await recall(context, message.text)},
            acting_for(context, journal),
            stream,
        )
        conversation = journal.conversation  # the newest, if a call was recorded on it
        new = state["messages"][len(given["messages"]) :]
        recorded = steps(conversation, message.message_id, new, state.get("pending"))
        final = state["messages"][-1]
        asked = clarification_of(final, message.message_id)
        tokens = _turn_usage(new)
        reply = AgentReply(
            reply_id=reply_id(message.message_id),
            in_reply_to=message.message_id,
            text=str(final.text),
            usage=tokens,
        )
        try:  # on the conversation loaded for this turn: no second load of a long thread
            await asyncio.to_thread(_record_on, self.services, conversation, recorded, reply, asked)
            self._keep(conversation)
        except ConcurrentUpdateError:  # it changed meanwhile: load it again and record
            await self._reply(
                conversation.id,
                message.message_id,
                reply.text,
                tokens,
                recorded=recorded,
                asked=asked,
            )
        except DomainError as refusal:
            log.info("reply not recorded", reason=str(refusal))

    async def refresh_symbols(self) -> None:
        """Teach the offline model the symbols priced so far (at most every
        `SYMBOLS_REFRESH_S`; a read model that cannot be read costs nothing but that)."""
        if time.monotonic() - self._symbols_read_at < SYMBOLS_REFRESH_S:
            return
        self._symbols_read_at = time.monotonic()
        try:
            prices = await self.read_models.collection(Prices.name)
            seen = await prices.distinct("_id")
        except (ImpressoxError, PyMongoError) as error:
            log.warning("symbols priced could not be read", error=str(error))
            return
        self.models.symbols.learn(str(symbol) for symbol in seen)

    async def _run_graph(
        self, given: dict[str, Any], config: RunnableConfig, stream: ReplyStream
    ) -> dict[str, Any]:
        """Run the graph to its final state, publishing what the answering nodes write
        as they write it (the router's choice of node is not text for the user)."""
        state: dict[str, Any] = {}
        try:
            async for mode, data in self.graph.astream(
                given, config, stream_mode=["messages", "values"]
            ):
                if mode == "values":
                    state = data
                    continue
                chunk, metadata = data
                if isinstance(chunk, AIMessageChunk) and metadata["langgraph_node"] != "router":
                    stream.send(str(chunk.id), str(chunk.text))
        finally:
            await stream.close()
        return state

    async def _reply(
        self,
        conversation_id: UUID,
        message_id: str,
        text: str,
        usage: dict[str, Any] | None,
        *,
        recorded: Sequence[ToolCall | ToolResult] = (),
        asked: Clarification | None = None,
    ) -> None:
        """Record the turn's steps, what its reply asks, and its reply in one commit."""
        reply = AgentReply(
            reply_id=reply_id(message_id), in_reply_to=message_id, text=text, usage=usage
        )
        conversations = self.services.conversations
        try:
            await asyncio.to_thread(
                conversations.record_turn, conversation_id, recorded, reply, asked
            )
        except DomainError as refusal:
            log.info("reply not recorded", reason=str(refusal))


def _record_on(
    services: Services,
    conversation: Conversation,
    recorded: list[ToolCall | ToolResult],
    reply: AgentReply,
    asked: Clarification | None,
) -> None:
    record_turn(conversation, recorded, reply, asked)
    services.conversations.commit(conversation)


def _turn_usage(messages: list[AnyMessage]) -> dict[str, Any]:
    """What the turn's answers cost, summed over its model calls (a tool round is two),
    and the model that wrote the last one (after a fallback, the fallback). The router's
    choice of node is not counted: it never reaches the state."""
    answers = [token_usage(m) for m in messages if isinstance(m, AIMessage)]
    if not answers:
        return {"model": "none", "input_tokens": 0, "output_tokens": 0}
    return {
        "model": answers[-1]["model"],
        "input_tokens": sum(a["input_tokens"] for a in answers),
        "output_tokens": sum(a["output_tokens"] for a in answers),
    }
