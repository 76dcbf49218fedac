"""Each handler's context, built from the process's collaborators.

A handler declares the context it takes (``@handler(..., context=RulesContext)``); this
module holds the one builder per context type, so every handler gets exactly what it
uses and nothing builds its own. A handler taking the plain `HandlerContext` (the
runtime's own, and those of `IMPRESSOX_MODULES`) gets the store alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from agent.handler_context import AgentHandlerContext
from chain.presence import WatcherPresence
from events.errors import ConfigurationError
from handlers.declaration import HandlerContext, HandlerSpec
from impressox.collaborators import Collaborators
from impressox.configs import models_config, notify_config
from knowledge.config import KnowledgeContext
from notify.config import NotifyContext, RepliesContext
from rules.context import FiringsContext, RulesContext


def _rules(built: Collaborators) -> RulesContext:
    settings = built.settings
    return RulesContext(
        built.store,
        alert_rules=built.services.alert_rules,
        snapshot_every_s=settings.rules_snapshot_s,
        warmup_s=settings.rules_warmup_s,
    )


def _firings(built: Collaborators) -> FiringsContext:
    return FiringsContext(built.store, alert_rules=built.services.alert_rules)


def _notify(built: Collaborators) -> NotifyContext:
    return NotifyContext(
        built.store, users=built.services.users, notify=notify_config(built.settings)
    )


def _replies(built: Collaborators) -> RepliesContext:
    return RepliesContext(
        built.store,
        conversations=built.services.conversations,
        notify=notify_config(built.settings),
    )


def _knowledge(built: Collaborators) -> KnowledgeContext:
    built.knowledge.embeddings()  # a wrong setting stops the worker now, not its entries
    return KnowledgeContext(built.store, knowledge=built.knowledge)


def _agent(built: Collaborators) -> AgentHandlerContext:
    # Imported here: langchain and the models load only in an agent worker.
    from agent.models import AgentModels  # noqa: PLC0415
    from agent.persona import load_persona  # noqa: PLC0415
    from projections.rule_health import RuleHealthReader  # noqa: PLC0415

    settings = built.settings
    return AgentHandlerContext(
        built.store,
        services=built.services,
        read_models=built.read_models,
        rule_health=RuleHealthReader(
            built.read_models,
            chain_watched=settings.chain_watched,
            stale_after_s=settings.source_stale_after_s,
            presence=WatcherPresence(
                built.store.redis, settings.stream_names(), configured=settings.chain_watched
            ),
        ),
        models=AgentModels(models_config(settings)),
        knowledge=built.knowledge,
        persona=load_persona(settings.agent_persona).prompt(),
    )


C = TypeVar("C", bound=HandlerContext)

BUILDERS: dict[type[HandlerContext], Callable[[Collaborators], HandlerContext]] = {
    RulesContext: _rules,
    FiringsContext: _firings,
    NotifyContext: _notify,
    RepliesContext: _replies,
    KnowledgeContext: _knowledge,
    AgentHandlerContext: _agent,
}


def handler_context(spec: HandlerSpec, built: Collaborators) -> HandlerContext:
    """The context `spec`'s handler takes, built from `built`."""
    return build_context(spec.context, built)


def build_context(kind: type[C], built: Collaborators) -> C:
    """A context of `kind` (the plain `HandlerContext`: the store alone)."""
    if kind is HandlerContext:
        return kind(built.store)
    builder = BUILDERS.get(kind)
    if builder is None:
        raise ConfigurationError(f"the composition root builds no {kind.__name__}")
    context = builder(built)
    assert isinstance(context, kind)  # BUILDERS maps each type to its own builder
    return context
