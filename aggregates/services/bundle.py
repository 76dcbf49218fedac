"""The application services of one process, as one value the composition root hands in.

The type lives here, beside the services, so that handlers, routes and bots can name it
without importing the root; the root (`impressox.services`) builds it once per process.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from aggregates.services.alert_rules import AlertRules
from aggregates.services.base import Service
from aggregates.services.conversations import Conversations
from aggregates.services.memory import Memories
from aggregates.services.users import Users
from aggregates.services.watches import Watches


@dataclass(frozen=True)
class Services:
    users: Users
    alert_rules: AlertRules
    conversations: Conversations
    watches: Watches
    memory: Memories

    def all(self) -> list[Service]:  # type: ignore[type-arg]
        return [getattr(self, field.name) for field in fields(self)]

    def close(self) -> None:
        for service in self.all():
            service.close()
