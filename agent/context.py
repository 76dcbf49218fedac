"""What a tool acts for and through: the user, the services, the read models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from knowledge.base import KnowledgeBase
from projections.reader import ReadModels
from projections.rule_health import RuleHealthReader

if TYPE_CHECKING:
    from aggregates.services.bundle import Services


@dataclass(frozen=True)
class AgentContext:
    """Who the agent acts for, and through what; `conversation_id` and `message_id`
    name the message being answered (the source of a fact the user states in it)."""

    user_id: UUID
    services: Services
    read_models: ReadModels
    knowledge: KnowledgeBase | None = None
    """The knowledge base the research tools search, and the memory index recall reads."""
    conversation_id: UUID | None = None
    message_id: str | None = None
    call_id: str | None = None
    """The call being run, for a tool whose effect is keyed by it (see `tools.Effect`)."""
    rule_health: RuleHealthReader = field(kw_only=True)
    """Whether rules can fire, and whether a chain watcher runs."""
