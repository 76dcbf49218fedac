"""Creating a rule for its owner, across the two aggregates that hold the pair.

A rule is made only for a live owner whose channels include every channel it names. The
owner is looked up again once the rule is saved, because a user's deletion finds the
rules to delete in the ``alert_rules`` read model (`api.user_deletion`): a rule saved
after the owner was checked, while the deletion ran, would not be there yet. One of the
two always sees the other: the deletion, begun before the second look, finds the rule
saved before that look; a deletion done before it is seen here, and the rule is deleted
at once and its creation refused as any command on a deleted user is (404).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any
from uuid import UUID

from aggregates.errors import DomainError, UserDeletedError
from aggregates.rule_spec import RuleSpec
from aggregates.services.alert_rules import AlertRules
from aggregates.services.users import Users


def create_owned_rule(
    users: Users,
    rules: AlertRules,
    owner_id: UUID,
    spec: RuleSpec | Mapping[str, Any],
    channel_ids: Sequence[str],
    *,
    rule_id: UUID | None = None,
) -> tuple[frozenset[str], UUID]:
    """The owner's channels and the new rule's id (see `AlertRules.create` for `rule_id`)."""
    channels = users.require_channels(owner_id, channel_ids)
    created = rules.create(owner_id, spec, rule_id)
    try:
        users.live(owner_id)
    except UserDeletedError:
        with suppress(DomainError):  # the deletion found it after all, and deleted it first
            rules.delete(created)
        raise
    return channels, created
