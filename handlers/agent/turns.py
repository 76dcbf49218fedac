"""A turn of the agent: each user message in a conversation gets exactly one reply.

The `agent` handler (`handlers.agent.handler`) hands every recorded user message of the
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
action. The next message, if it confirms ("yes"), runs it; anything else drops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

import structlog
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.runnables import RunnableConfig

import projections.readmodels  # noqa: F401 - registers the read models the tools read
from aggregates.conversation import AgentReply, Conversation, ToolCall, ToolResult, UserMessage
from aggregates.errors import ConcurrentUpdateError, DomainError
from events.envelope import RecordedEvent
from events.errors import ConfigurationError
from handlers.agent.answers import compose
from handlers.agent.graph import acting_for, build_agent
from handlers.agent.journal import TURN_NAMESPACE, TurnJournal, call_id_for, settle
from handlers.agent.memory import recall
from handlers.agent.models import AgentModels, token_usage
from handlers.agent.persona import load_persona
from handlers.agent.streaming import ReplyStream
from handlers.agent.tools import AGENT_TOOLS
from handlers.agent.toolset import AgentContext
from handlers.declaration import HandlerContext, HandlerResult
from handlers.rag.reader import KnowledgeReader
from impressox.connections import connect_mongo
from impressox.services import Services, build_services
from projections.reader import ReadModels
from projections.registry import PROJECTIONS
from projections.rule_health import RuleHealthReader

if TYPE_CHECKING:
    from impressox.settings import Settings

log = structlog.get_logger(__name__)

RECENT_CONVERSATIONS = 256
"""Conversations a worker holds after answering, for their threads' next messages."""
HISTORY_TURNS = 20
"""Earlier messages and replies given to the model: the conversation's recent past."""


def reply_id(message_id: str) -> str:
    """The reply's id, derived from the message: the same on every attempt."""
    return str(uuid5(TURN_NAMESPACE, message_id))


class Turns:
    def __init__(self, context: HandlerContext) -> None:
        settings = context.settings
        if settings is None or settings.redis_url is None or settings.mongo_url is None:
            raise ConfigurationError("the agent needs the settings, REDIS_URL and MONGO_URL")
        self.settings: Settings = settings
        self.store = context.store
        self.services = build_services(settings, settings.redis_url)
        self.mongo = connect_mongo(settings.mongo_url)
        self.read_models = ReadModels(self.mongo[settings.mongo_database], PROJECTIONS.all())
        self.rule_health = RuleHealthReader(
            self.read_models,
            chain_watched=settings.chain_watched,
            stale_after_s=settings.source_stale_after_s,
        )
        persona = load_persona(settings.agent_persona).prompt()
        self.graph = build_agent(AgentModels(settings), AGENT_TOOLS, persona)
        self.knowledge = KnowledgeReader(settings)
        """Opened on the first search (it reads what the `knowledge` worker wrote)."""
        self.recent: dict[UUID, Conversation] = {}
        """Conversations this worker committed last, oldest first (see `_load`)."""

    async def handle(self, recorded: RecordedEvent) -> HandlerResult:
        turn: Any = getattr(recorded.event.payload, "turn", None)
        if not isinstance(turn, UserMessage):
            return None  # the agent's own tool calls and results
        conversation_id = UUID(recorded.event.key)
        conversation = await asyncio.to_thread(self._load, conversation_id)
        if conversation.reply_to(turn.message_id) is not None:
            return None  # answered already: a redelivery
        started = _calls_of(conversation, turn.message_id)
        if started:  # an interrupted turn: settle the calls it began, then answer
            context = await self._context(conversation, turn)
            outputs, results = await settle(AGENT_TOOLS, conversation, started, context)
            await self._reply(conversation_id, turn.message_id, compose(outputs), None, results)
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
        context = await self._context(conversation, message)
        journal = TurnJournal(self.services, conversation, message.message_id, context)
        history = _history(conversation, message.message_id)
        stream = ReplyStream(
            self.store.redis,
            self.store.names.reply_channel(str(conversation.id)),
            str(conversation.id),
            message.message_id,
        )
        state = await self._run_graph(
            {
                "messages": [*history, HumanMessage(message.text)],
                "pending": _pending(conversation, message.message_id),
                "memory": await recall(context, message.text),
            },
            acting_for(context, journal),
            stream,
        )
        conversation = journal.conversation  # the newest, if a call was recorded on it
        new = state["messages"][len(history) + 1 :]
        steps = _steps(conversation, message.message_id, new, state.get("pending"))
        final = state["messages"][-1]
        tokens = _turn_usage(new)
        reply = AgentReply(
            reply_id=reply_id(message.message_id),
            in_reply_to=message.message_id,
            text=str(final.text),
            usage=tokens,
        )
        try:  # on the conversation loaded for this turn: no second load of a long thread
            await asyncio.to_thread(_record_on, self.services, conversation, steps, reply)
            self._keep(conversation)
        except ConcurrentUpdateError:  # it changed meanwhile: load it again and record
            await self._reply(conversation.id, message.message_id, reply.text, tokens, steps)
        except DomainError as refusal:
            log.info("reply not recorded", reason=str(refusal))

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
        steps: Sequence[ToolCall | ToolResult] = (),
    ) -> None:
        """Record the turn's steps and its reply in one commit."""
        reply = AgentReply(
            reply_id=reply_id(message_id), in_reply_to=message_id, text=text, usage=usage
        )
        conversations = self.services.conversations
        try:
            await asyncio.to_thread(conversations.record_turn, conversation_id, steps, reply)
        except DomainError as refusal:
            log.info("reply not recorded", reason=str(refusal))

    async def aclose(self) -> None:
        self.services.close()
        await self.mongo.close()
        await self.knowledge.aclose()


def _record_on(
    services: Services,
    conversation: Conversation,
    steps: list[ToolCall | ToolResult],
    reply: AgentReply,
) -> None:
    for step in steps:
        if isinstance(step, ToolCall):
            conversation.call_tool(step)
        else:
            conversation.record_tool_result(step)
    conversation.reply(reply)
    services.conversations.commit(conversation)


def _steps(
    conversation: Conversation,
    message_id: str,
    messages: list[AnyMessage],
    pending: dict[str, Any] | None,
) -> list[ToolCall | ToolResult]:
    """The turn's calls and results as the conversation records them. A call confirmed
    now was recorded with the turn that asked: only its result is new; a call awaiting
    confirmation is recorded without a result."""
    known = {t.call_id for t in conversation.turns if isinstance(t, ToolCall)}
    waiting = pending["id"] if pending is not None else None

    def stored(call_id: str) -> str:
        """The id a call of this turn is recorded under: derived from the model's, unless
        it was recorded by an earlier turn (a confirmed call, when nothing journaled
        its run in this one)."""
        derived = call_id_for(message_id, call_id)
        return call_id if call_id in known and derived not in known else derived

    steps: list[ToolCall | ToolResult] = []
    for message in messages:
        if isinstance(message, AIMessage):
            steps += [
                ToolCall(
                    call_id=stored(str(call["id"])),
                    in_reply_to=message_id,
                    tool=call["name"],
                    arguments=call["args"],
                )
                for call in message.tool_calls
                if stored(str(call["id"])) not in known
            ]
        elif isinstance(message, ToolMessage) and message.tool_call_id != waiting:
            output = str(message.content)
            steps.append(ToolResult(call_id=stored(message.tool_call_id), output=output))
    return steps


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


def _calls_of(conversation: Conversation, message_id: str) -> list[ToolCall]:
    return [
        t for t in conversation.turns if isinstance(t, ToolCall) and t.in_reply_to == message_id
    ]


def _history(conversation: Conversation, current: str) -> list[AnyMessage]:
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
    return [
        HumanMessage(turn.text) if isinstance(turn, UserMessage) else AIMessage(turn.text)
        for turn in reversed(recent)
    ]


def _pending(conversation: Conversation, current: str) -> dict[str, Any] | None:
    """The call awaiting confirmation: a confirm-tool's call without a result, made in
    the turn just before `current` (a confirmation answers the question just asked)."""
    users = [t.message_id for t in conversation.turns if isinstance(t, UserMessage)]
    position = users.index(current) if current in users else len(users)
    if position == 0:
        return None
    previous = users[position - 1]
    answered = {t.call_id for t in conversation.turns if isinstance(t, ToolResult)}
    for turn in conversation.turns:
        if not isinstance(turn, ToolCall) or turn.in_reply_to != previous:
            continue
        tool = AGENT_TOOLS.get(turn.tool)
        if tool is not None and tool.confirm and turn.call_id not in answered:
            return {"name": turn.tool, "args": turn.arguments, "id": turn.call_id}
    return None
