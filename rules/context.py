"""What the rules handlers use besides the store, built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from aggregates.services.alert_rules import AlertRules
from handlers.declaration import HandlerContext


@dataclass(frozen=True)
class RulesContext(HandlerContext):
    """For `rules`: the rules' service (expiring rules through the aggregate), how often
    the rule book saves a snapshot, and how long a partition's engine warms up."""

    alert_rules: AlertRules
    snapshot_every_s: float
    warmup_s: float


@dataclass(frozen=True)
class FiringsContext(HandlerContext):
    """For `rule-firings`: the rules' service, on which each firing is recorded."""

    alert_rules: AlertRules
