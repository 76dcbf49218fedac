"""The event types the system's producers and handlers share, and where each belongs.

Aggregate events (users, rules, conversations, watches) are declared by their
aggregates; these are the facts from outside and from handlers: prices, alerts,
posts, notifications and channel tests, chain events and documents. Each type names its
category and how its partition key is derived, so every producer (a source, a handler,
the ingest API) routes an event to the same partition.
"""

from __future__ import annotations

from events.catalog.alerts import AlertTriggered
from events.catalog.chain import (
    ChainEventConfirmed,
    ChainEventObserved,
    ChainEventRetracted,
    ChainLogObserved,
    ChainRecord,
    ValueTransfer,
)
from events.catalog.channel_tests import ChannelTestRequested
from events.catalog.common import CatalogPayload, Severity, Symbol
from events.catalog.documents import DocumentAdded, DocumentRemoved
from events.catalog.notifications import NotificationFailed, NotificationSent
from events.catalog.posts import Engagement, PostScraped
from events.catalog.prices import PriceTick, SourceStale, SourceStarted, SourceStopped

CATALOG: tuple[type[CatalogPayload], ...] = (
    PriceTick,
    SourceStale,
    SourceStarted,
    SourceStopped,
    AlertTriggered,
    PostScraped,
    NotificationSent,
    NotificationFailed,
    ChannelTestRequested,
    ChainLogObserved,
    ChainEventObserved,
    ChainEventConfirmed,
    ChainEventRetracted,
    DocumentAdded,
    DocumentRemoved,
)
"""Every catalog type, for the ingest API and the documentation."""


INGESTABLE: dict[str, dict[str, type[CatalogPayload]]] = {}
"""The categories outsiders may append to (the ingest API), and their types by name."""
for _model in CATALOG:
    if _model.ingestable:
        INGESTABLE.setdefault(_model.category, {})[_model.event_type] = _model


__all__ = [
    "CATALOG",
    "INGESTABLE",
    "AlertTriggered",
    "CatalogPayload",
    "ChainEventConfirmed",
    "ChainEventObserved",
    "ChainEventRetracted",
    "ChainLogObserved",
    "ChainRecord",
    "ChannelTestRequested",
    "DocumentAdded",
    "DocumentRemoved",
    "Engagement",
    "NotificationFailed",
    "NotificationSent",
    "PostScraped",
    "PriceTick",
    "Severity",
    "SourceStale",
    "SourceStarted",
    "SourceStopped",
    "Symbol",
    "ValueTransfer",
]
