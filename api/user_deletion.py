"""Deleting a user and what would act for them: one flow for the API and the CLI.

1. The User aggregate records the deletion (`Users.delete`): every active key revoked,
   with the events a revocation records (the key log refuses them in every API process
   and closes their sockets with 4401), then ``user.deleted``, which forgets the user's
   identities and chat channels (the bots no longer find them) and refuses any later
   command on the user.
2. Every alert rule of the user is deleted through its AlertRule aggregate, so the rule
   book drops it and it never fires again (its status says ``deleted`` everywhere). The
   rules are found in the ``alert_rules`` read model once it has applied the rules' log
   up to its head: a rule made before the deletion is there, and one made after it is
   refused (its owner is deleted). A rule whose creation checked the owner just before
   the deletion and was saved just after the log's head was read is not there: its
   creation looks the owner up again once the rule is saved, and deletes it
   (`aggregates.services.owned_rules`).
3. The user's watch list is emptied (wallets, accounts, keywords, feeds), so the
   sources stop fetching for them.

Deleting a deleted user records nothing on the user and runs steps 2 and 3 again: a
deletion stopped between the steps (a crash, MongoDB away) is finished by deleting
again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

from pydantic import Field

from aggregates.errors import DomainError
from aggregates.services.alert_rules import AlertRules
from aggregates.services.bundle import Services
from api.commands import COMMAND_REFUSALS, Accepted, Wait, accepted
from api.consistency import written_position
from api.context import ApiContext
from events.position import Position
from events.store import EventStore
from projections.reader import ReadModels

RULES = "alert_rules"
"""The read model the user's rules are found in."""
RULES_SETTLE_S = 5.0
"""How long to wait for the rules read model to apply the rules' log before reading it."""


@dataclass(frozen=True)
class Deletion:
    user_id: UUID
    notification_id: int | None
    """The users' log notification of ``user.deleted``; None if deleted already."""
    rules_deleted: int
    rules_settled: bool
    """False if the rules read model was behind the rules' log after `RULES_SETTLE_S`: a
    rule made just before the deletion may be missed; deleting again finds it."""

    @property
    def already(self) -> bool:
        return self.notification_id is None


async def delete_user(
    services: Services,
    read_models: ReadModels,
    store: EventStore,
    user_id: UUID,
    *,
    settle_s: float = RULES_SETTLE_S,
) -> Deletion:
    """Delete the user and their rules; NotFoundError for a user that never existed."""
    users = services.users
    notification_id = await asyncio.to_thread(users.retrying, lambda: users.delete(user_id))
    stream, head = await written_position(store, services.alert_rules.name, None)
    settled = True
    if head != Position(0, 0):  # else no rule was ever made: nothing to wait for
        settled = await read_models.wait_for(
            store.redis, store.names, stream, head, timeout_s=settle_s, only=RULES
        )
    collection = await read_models.collection(RULES)
    cursor = collection.find({"owner_id": str(user_id), "status": {"$ne": "deleted"}}, {"_id": 1})
    rule_ids = [UUID(str(document["_id"])) async for document in cursor]
    deleted = await asyncio.to_thread(_delete_rules, services.alert_rules, rule_ids)
    watches = services.watches
    await asyncio.to_thread(watches.retrying, lambda: watches.clear(user_id))
    return Deletion(user_id, notification_id, deleted, settled)


def _delete_rules(alert_rules: AlertRules, rule_ids: list[UUID]) -> int:
    """Delete each rule; one deleted meanwhile is skipped. How many were deleted."""
    return sum(_delete_rule(alert_rules, rule_id) for rule_id in rule_ids)


def _delete_rule(alert_rules: AlertRules, rule_id: UUID) -> bool:
    try:
        alert_rules.retrying(lambda: alert_rules.delete(rule_id))
    except DomainError:
        return False  # deleted (or gone) meanwhile: nothing left to stop
    return True


# -- the routes' receipt (`DELETE /v1/me`, `DELETE /v1/users/{user_id}`) -----------------

DELETE_RESPONSES = COMMAND_REFUSALS


class UserDeleted(Accepted):
    """`id` is the user's id. Deleting a deleted user again answers the same way
    (`already_deleted` true) and finishes what a stopped deletion left."""

    already_deleted: bool = Field(description="The user was deleted before this request.")
    rules_deleted: int = Field(description="The user's alert rules this request deleted.")
    rules_settled: bool = Field(
        description="False if the rules read model was behind: a rule made just before the"
        " deletion may be left; deleting again deletes it."
    )


async def deleted(context: ApiContext, wait: Wait, user_id: UUID) -> UserDeleted:
    """Delete the user for a route: its receipt."""
    deletion = await delete_user(context.services, context.read_models, context.store, user_id)
    receipt = await accepted(
        context,
        wait,
        application=context.services.users.name,
        resource_id=user_id,
        notification_id=deletion.notification_id,
    )
    return UserDeleted(
        **receipt.model_dump(),
        already_deleted=deletion.already,
        rules_deleted=deletion.rules_deleted,
        rules_settled=deletion.rules_settled,
    )
