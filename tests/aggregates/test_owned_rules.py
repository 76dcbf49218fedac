"""A rule is made for a live owner, even when the owner's deletion runs meanwhile."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import pytest

from aggregates.errors import InvalidCommandError, UserDeletedError
from aggregates.services.alert_rules import AlertRules
from aggregates.services.owned_rules import create_owned_rule
from aggregates.services.users import Users
from tests.aggregates.conftest import rule_spec


class DeletedWhileSaving(AlertRules):
    """The owner's deletion lands between the owner's check and the rule's save: the
    window in which the deletion cannot see the rule in its read model yet."""

    users: Users
    made: UUID | None = None

    def create(self, owner_id: UUID, spec: Any, rule_id: UUID | None = None) -> UUID:
        self.users.delete(owner_id)
        self.made = super().create(owner_id, spec, rule_id)
        return self.made


def test_a_rule_is_made_with_its_owner_s_channels(users: Users, rules: AlertRules) -> None:
    owner = users.register("Ada")
    channels, rule_id = create_owned_rule(users, rules, owner, rule_spec(), ["web"])
    assert (channels, rules.load(rule_id).status) == (frozenset({"web"}), "active")
    with pytest.raises(InvalidCommandError, match="you have no channel 'tg'"):
        create_owned_rule(users, rules, owner, rule_spec(), ["web", "tg"])


def test_a_rule_saved_as_its_owner_is_deleted_is_deleted_too(
    users: Users, es_env: Mapping[str, str]
) -> None:
    owner = users.register("Ada")
    racing = DeletedWhileSaving(dict(es_env))
    racing.users = users
    try:
        with pytest.raises(UserDeletedError, match=f"user {owner} was deleted"):
            create_owned_rule(users, racing, owner, rule_spec(), ["web"])
        assert racing.made is not None
        assert racing.load(racing.made).status == "deleted"  # saved, then deleted: never fires
    finally:
        racing.close()
