"""The modules that declare our event types and handlers, imported by every process.

Named here, by the composition root, rather than by the runtime: `handlers` knows no
feature, and imports what it is told (`handlers.declaration.load_modules`).
"""

from __future__ import annotations

from collections.abc import Iterable

from handlers.declaration import load_modules

BUILTIN_MODULES: tuple[str, ...] = (
    "handlers.dead_letters",
    "events.catalog",
    "notify.handler",
    "notify.replies",
    "rules.handler",
    "rules.recorder",
    "knowledge.indexer",
    "knowledge.memory_index",
    "agent.handler",
    "chain.partitioner",
)
"""Ours: the runtime's dead letters, the catalog, and each feature's handlers."""


def load_handlers(configured: Iterable[str]) -> None:
    """Import ours and the configured modules (IMPRESSOX_MODULES), so they register."""
    load_modules([*BUILTIN_MODULES, *configured])
