"""What the `agent` handler answers with, built once per process by the composition root.

Types only at run time: `agent.handler` is imported by every process, and only an agent
worker builds what these name (langchain, langgraph, the offline model's vocabulary).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from handlers.declaration import HandlerContext

if TYPE_CHECKING:
    from agent.models import AgentModels
    from aggregates.services.bundle import Services
    from knowledge.base import KnowledgeBase
    from projections.reader import ReadModels
    from projections.rule_health import RuleHealthReader


@dataclass(frozen=True)
class AgentHandlerContext(HandlerContext):
    """The services the tools act through, the read models they read, each node's
    model, the knowledge base, and the persona's prompt."""

    services: Services
    read_models: ReadModels
    rule_health: RuleHealthReader
    models: AgentModels
    knowledge: KnowledgeBase
    persona: str
