"""The `agent` handler's declaration: every process imports it, only an agent worker
builds it, so building it is what imports the graph (langchain, langgraph: ~1 s)."""

from __future__ import annotations

from agent.handler_context import AgentHandlerContext
from events.envelope import RecordedEvent
from events.names import StreamNames
from handlers.declaration import HandlerResult, handler


@handler(
    "agent",
    categories=["log"],
    tags=[StreamNames.application_tag("conversations")],
    types=["conversation.turn_recorded"],
    context=AgentHandlerContext,
)
class Agent:
    """Answers each user message once (see `agent.turns`)."""

    def __init__(self, context: AgentHandlerContext) -> None:
        from agent.turns import Turns  # noqa: PLC0415 - heavy: see above

        self._turns = Turns(context)

    async def handle(self, recorded: RecordedEvent) -> HandlerResult:
        return await self._turns.handle(recorded)
