"""A turn of the agent: each user message in a conversation gets exactly one reply.

The `agent` handler (`handlers.agent.handler`) hands every recorded user message of the
conversations application's log to `Turns.handle`.
The Conversation aggregate is the agent's durable state (no separate checkpointer):
the turn's tool calls, their results and the reply are recorded on it, with the
message's correlation id, and everything the tools do is a command or a read of the
system's own.

Exactly one reply, under any redelivery:

- a message that has a reply is skipped;
- a turn's tool calls, results and reply are recorded in one commit, so a conversation
  never holds half a turn of ours; one that holds calls without a reply (recorded by an
  older version, or by hand) is answered from them, and its tools are not run again;
- the reply is refused by the aggregate if another worker answered first.

What is not covered yet: a crash after a tool ran and before that commit runs the tool
again on redelivery (a second rule would be created). Closing it means recording each
call before running it, which is the next step of the agent's runtime.

A tool that needs confirmation is recorded as a call without a result: the pending
action. The next message, if it confirms ("yes"), runs it; anything else drops it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

import projections.readmodels  # noqa: F401 - registers the read models the tools read
from aggregates.conversation import AgentReply, Conversation, ToolCall, ToolResult, UserMessage
from aggregates.errors import ConcurrentUpdateError, DomainError
from events.envelope import RecordedEvent
from events.errors import ConfigurationError
from handlers.agent import toolset
from handlers.agent.answers import compose
from handlers.agent.graph import acting_for, build_agent
from handlers.agent.offline import MODEL_NAME, OfflineChatModel
from handlers.agent.persona import load_persona
from handlers.agent.tools import AGENT_TOOLS
from handlers.declaration import HandlerContext, HandlerResult
from handlers.rag.embeddings import create_embeddings
from handlers.rag.store import KnowledgeStore
from impressox.connections import connect_mongo
from impressox.services import Services, build_services
from projections.reader import ReadModels
from projections.registry import PROJECTIONS

if TYPE_CHECKING:
    from impressox.settings import Settings

log = structlog.get_logger(__name__)

HISTORY_TURNS = 20
"""Earlier messages and replies given to the model: the conversation's recent past."""
REPLY_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/agent-reply")


def reply_id(message_id: str) -> str:
    """The reply's id, derived from the message: the same on every attempt."""
    return str(uuid5(REPLY_NAMESPACE, message_id))


def call_id_for(message_id: str, model_call_id: str) -> str:
    """A call's id in the conversation: unique to its turn, whatever the model named it
    (the offline model names a call after the question, which a user may ask twice)."""
    return str(uuid5(REPLY_NAMESPACE, f"{message_id}/{model_call_id}"))


class Turns:
    def __init__(self, context: HandlerContext) -> None:
        settings = context.settings
        if settings is None or settings.redis_url is None or settings.mongo_url is None:
            raise ConfigurationError("the agent needs the settings, REDIS_URL and MONGO_URL")
        self.settings: Settings = settings
        self.services = build_services(settings, settings.redis_url)
        self.mongo = connect_mongo(settings.mongo_url)
        self.read_models = ReadModels(self.mongo[settings.mongo_database], PROJECTIONS.all())
        persona = load_persona(settings.agent_persona).prompt()
        self.graph = build_agent(lambda node: OfflineChatModel(), AGENT_TOOLS, persona)
        self.knowledge: toolset.Knowledge | None = None

    async def handle(self, recorded: RecordedEvent) -> HandlerResult:
        turn: Any = getattr(recorded.event.payload, "turn", None)
        if not isinstance(turn, UserMessage):
            return None  # the agent's own tool calls and results
        conversation_id = UUID(recorded.event.key)
        conversation: Conversation = await asyncio.to_thread(
            self.services.conversations.load, conversation_id
        )
        if conversation.reply_to(turn.message_id) is not None:
            return None  # answered already: a redelivery
        started = _calls_of(conversation, turn.message_id)
        if started:
            text = compose(_recorded_results(conversation, started))
            await self._reply(conversation_id, turn.message_id, text, None)
            return None
        await self._answer(conversation, turn)
        return None

    async def _knowledge(self) -> toolset.Knowledge:
        """The knowledge base, opened on the first turn (it reads what `knowledge` wrote)."""
        if self.knowledge is None:
            store = await KnowledgeStore.connect(self.settings)
            embeddings = create_embeddings(self.settings.embeddings, self.settings)
            self.knowledge = toolset.Knowledge(store, embeddings)
        return self.knowledge

    async def _answer(self, conversation: Conversation, message: UserMessage) -> None:
        context = toolset.AgentContext(
            conversation.user_id, self.services, self.read_models, await self._knowledge()
        )
        history = _history(conversation, message.message_id)
        state = await self.graph.ainvoke(
            {
                "messages": [*history, HumanMessage(message.text)],
                "pending": _pending(conversation, message.message_id),
            },
            acting_for(context),
        )
        new = state["messages"][len(history) + 1 :]
        steps = _steps(conversation, message.message_id, new, state.get("pending"))
        final = state["messages"][-1]
        usage = getattr(final, "usage_metadata", None) or {}
        tokens = {
            "model": MODEL_NAME,
            "input_tokens": usage.get("input_tokens", 0),
            "output_tokens": usage.get("output_tokens", 0),
        }
        reply = AgentReply(
            reply_id=reply_id(message.message_id),
            in_reply_to=message.message_id,
            text=str(final.content),
            usage=tokens,
        )
        try:  # on the conversation loaded for this turn: no second load of a long thread
            await asyncio.to_thread(_record_on, self.services, conversation, steps, reply)
        except ConcurrentUpdateError:  # it changed meanwhile: load it again and record
            await self._reply(conversation.id, message.message_id, reply.text, tokens, steps)
        except DomainError as refusal:
            log.info("reply not recorded", reason=str(refusal))

    async def _reply(
        self,
        conversation_id: UUID,
        message_id: str,
        text: str,
        usage: dict[str, Any] | None,
        steps: list[ToolCall | ToolResult] | None = None,
    ) -> None:
        """Record the turn's steps and its reply in one commit."""
        reply = AgentReply(
            reply_id=reply_id(message_id), in_reply_to=message_id, text=text, usage=usage
        )
        conversations = self.services.conversations
        try:
            await asyncio.to_thread(conversations.record_turn, conversation_id, steps or [], reply)
        except DomainError as refusal:
            log.info("reply not recorded", reason=str(refusal))

    async def aclose(self) -> None:
        self.services.close()
        await self.mongo.close()
        if self.knowledge is not None:
            await self.knowledge.embeddings.aclose()
            await self.knowledge.store.aclose()


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
        return call_id if call_id in known else call_id_for(message_id, call_id)

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
                if str(call["id"]) not in known
            ]
        elif isinstance(message, ToolMessage) and message.tool_call_id != waiting:
            output = str(message.content)
            steps.append(ToolResult(call_id=stored(message.tool_call_id), output=output))
    return steps


def _calls_of(conversation: Conversation, message_id: str) -> list[ToolCall]:
    return [
        t for t in conversation.turns if isinstance(t, ToolCall) and t.in_reply_to == message_id
    ]


def _recorded_results(conversation: Conversation, calls: list[ToolCall]) -> list[tuple[str, str]]:
    outputs = {t.call_id: t for t in conversation.turns if isinstance(t, ToolResult)}
    return [
        (call.tool, str(outputs[call.call_id].output)) for call in calls if call.call_id in outputs
    ] or [("", "I was interrupted while answering; please ask again.")]


def _history(conversation: Conversation, current: str) -> list[AnyMessage]:
    """The recent messages and replies before `current`, as the model reads them."""
    history: list[AnyMessage] = []
    for turn in conversation.turns:
        if isinstance(turn, UserMessage) and turn.message_id != current:
            history.append(HumanMessage(turn.text))
        elif isinstance(turn, AgentReply):
            history.append(AIMessage(turn.text))
    return history[-HISTORY_TURNS:]


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
