"""Alert rules: a trader's own, created, changed, paused, resumed, deleted and listed.

Commands go to the AlertRule aggregates, and ownership is checked on the aggregate a
command loads (a rule created a moment ago is found even before its read model shows
it); reads come from the `alert_rules` read model. Another user's rule is a 404.

A rule that could never fire is refused (422 naming the field): a price threshold of
zero or less, a channel its owner does not have, a contract event its contract does not
declare (or a filter on an argument the event lacks). One that may become able to fire is
accepted with its `health` saying what it waits for (`projections.rule_health`), in the
answer to its creation or change and in every read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from aggregates.alert_rule import AlertRule, Status
from aggregates.rule_spec import RuleSpec
from aggregates.services.alert_rules import AlertRules
from aggregates.services.owned_rules import create_owned_rule
from aggregates.services.users import Users
from api.auth import require_visible
from api.commands import COMMAND_REFUSALS, READ_RESPONSES, Accepted, accepted, run_command
from api.consistency import AfterWrites, read_after
from api.context import ApiContext
from api.deps import ActingFor, Context, UserKey, WaitFor
from api.keys import Principal
from api.pagination import DEFAULT_LIMIT, Page, page
from api.reading import Cursor, Limit, problem_responses
from projections.model import Document
from projections.readmodels.alert_rules import AlertRules as AlertRulesReadModel
from projections.rule_health import Health, RuleHealth, RuleView

router = APIRouter(prefix="/rules", tags=["rules"])

READ_MODEL = AlertRulesReadModel.name
RulesAfter = Annotated[AfterWrites, Depends(read_after(READ_MODEL))]
NO_RULE = problem_responses(404, s404="No such rule, or another user's.")


HEALTH = Field(
    description="Whether the rule can fire now: armed, waiting_for_price,"
    " no_source_for_symbol, source_stale, no_chain_watcher, channel_missing,"
    " invalid_threshold, paused, completed, expired or deleted (see the README)."
)
HEALTH_DETAIL = Field(description="What the rule waits for, or what to fix.")


class RulePublic(BaseModel):
    id: UUID
    owner_id: UUID
    spec: RuleSpec
    status: Status
    health: Health = HEALTH
    health_detail: str = HEALTH_DETAIL
    subjects: list[str]
    """What the rule watches: its symbol, keyword, account, wallet or contract."""
    trigger_count: int
    last_triggered_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RuleAccepted(Accepted):
    """A rule command's receipt, with the rule's health as the command left it."""

    health: Health = HEALTH
    health_detail: str = HEALTH_DETAIL


async def _publics(context: ApiContext, documents: list[Document]) -> list[RulePublic]:
    views = [RuleView(d["owner_id"], d["spec"], d["status"]) for d in documents]
    healths = await context.rule_health.health(views)
    return [
        RulePublic.model_validate(
            {**d, "id": d["_id"], "health": h.health, "health_detail": h.detail}
        )
        for d, h in zip(documents, healths, strict=True)
    ]


def _with_health(receipt: Accepted, health: RuleHealth) -> RuleAccepted:
    return RuleAccepted(**receipt.model_dump(), health=health.health, health_detail=health.detail)


async def _health_of_spec(
    context: ApiContext, owner_id: UUID, spec: RuleSpec, channels: frozenset[str], status: str
) -> RuleHealth:
    """A rule's health as a command left it, its owner's channels as the command checked
    them (the `users` read model may not show a channel added a moment ago)."""
    view = RuleView(str(owner_id), spec.model_dump(mode="json"), status)
    [health] = await context.rule_health.health([view], channels={str(owner_id): channels})
    return health


def _change_owned(
    rules: AlertRules,
    principal: Principal,
    rule_id: UUID,
    command: Callable[[AlertRule], object],
) -> int | None:
    """Apply `command` to a rule the caller may see (404 otherwise): its notification id.

    A command that lost a race to another one is applied again to the fresh state,
    which decides whether it still applies (pausing a rule paused meanwhile is a 409).
    """

    def owned(rule: AlertRule) -> None:
        require_visible(principal, rule.owner_id, "rule")
        command(rule)

    return rules.retrying(lambda: rules.change(rule_id, owned))


async def _command(
    context: Context,
    principal: Principal,
    wait: WaitFor,
    rule_id: UUID,
    command: Callable[[AlertRule], object],
) -> Accepted:
    rules = context.services.alert_rules
    notification_id = await run_command(_change_owned, rules, principal, rule_id, command)
    return await accepted(
        context,
        wait,
        application=rules.name,
        notification_id=notification_id,
        resource_id=rule_id,
    )


@router.post(
    "",
    response_model=RuleAccepted,
    status_code=201,
    summary="Create a rule",
    responses={
        **COMMAND_REFUSALS,
        **problem_responses(404, s404="No such user (an admin key acting for one, user_id)."),
    },
)
async def create_rule(
    spec: RuleSpec, context: Context, owner_id: ActingFor, wait: WaitFor
) -> RuleAccepted:
    users, rules = context.services.users, context.services.alert_rules
    await context.contract_events.refuse_unknown(spec)
    channels, rule_id = await run_command(_create, users, rules, owner_id, spec)
    receipt = await accepted(context, wait, application=rules.name, resource_id=rule_id)
    health = await _health_of_spec(context, owner_id, spec, channels, "active")
    return _with_health(receipt, health)


def _create(
    users: Users, rules: AlertRules, owner_id: UUID, spec: RuleSpec
) -> tuple[frozenset[str], UUID]:
    """The owner's channels (every channel the rule names among them) and the new rule."""
    return create_owned_rule(users, rules, owner_id, spec, spec.channels)


@router.put(
    "/{rule_id}",
    response_model=RuleAccepted,
    summary="Replace a rule's spec",
    responses={**COMMAND_REFUSALS, **NO_RULE},
)
async def update_rule(
    rule_id: UUID, spec: RuleSpec, context: Context, principal: UserKey, wait: WaitFor
) -> RuleAccepted:
    users = context.services.users
    await context.contract_events.refuse_unknown(spec)
    changed: list[tuple[UUID, frozenset[str], str]] = []

    def update(rule: AlertRule) -> None:
        channels = users.require_channels(rule.owner_id, spec.channels)
        rule.update(spec)
        changed.append((rule.owner_id, channels, rule.status))

    receipt = await _command(context, principal, wait, rule_id, update)
    owner_id, channels, status = changed[-1]  # the attempt that was saved: the last one
    return _with_health(receipt, await _health_of_spec(context, owner_id, spec, channels, status))


@router.post(
    "/{rule_id}/pause",
    response_model=Accepted,
    summary="Pause an active rule",
    responses={**COMMAND_REFUSALS, **NO_RULE},
)
async def pause_rule(
    rule_id: UUID, context: Context, principal: UserKey, wait: WaitFor
) -> Accepted:
    return await _command(context, principal, wait, rule_id, AlertRule.pause)


@router.post(
    "/{rule_id}/resume",
    response_model=Accepted,
    summary="Resume a paused rule",
    responses={**COMMAND_REFUSALS, **NO_RULE},
)
async def resume_rule(
    rule_id: UUID, context: Context, principal: UserKey, wait: WaitFor
) -> Accepted:
    return await _command(context, principal, wait, rule_id, AlertRule.resume)


@router.delete(
    "/{rule_id}",
    response_model=Accepted,
    summary="Delete a rule (it stays listed with status deleted)",
    responses={**COMMAND_REFUSALS, **NO_RULE},
)
async def delete_rule(
    rule_id: UUID, context: Context, principal: UserKey, wait: WaitFor
) -> Accepted:
    return await _command(context, principal, wait, rule_id, AlertRule.delete)


@router.get(
    "",
    response_model=Page[RulePublic],
    summary="Your rules, newest first",
    responses=READ_RESPONSES,
)
async def list_rules(
    context: Context,
    owner_id: ActingFor,
    after: RulesAfter,
    *,
    status: Annotated[
        Status | None, Query(description="Only rules in this status (default: all but deleted).")
    ] = None,
    subject: Annotated[
        str | None,
        Query(
            max_length=128,
            description="Only rules watching this symbol (BTC/USDT), keyword, account or address.",
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[RulePublic]:
    await after.wait()
    query: dict[str, Any] = {
        "owner_id": str(owner_id),
        "status": status if status is not None else {"$ne": "deleted"},
    }
    if subject is not None:
        query["subjects"] = subject
    collection = await context.read_models.collection(READ_MODEL)
    documents, next_cursor = await page(
        collection, query, sort_field="created_at", limit=limit, cursor=cursor
    )
    return Page[RulePublic](items=await _publics(context, documents), next_cursor=next_cursor)


@router.get(
    "/{rule_id}",
    response_model=RulePublic,
    summary="One of your rules",
    responses={**READ_RESPONSES, **NO_RULE},
)
async def get_rule(
    rule_id: UUID, context: Context, principal: UserKey, after: RulesAfter
) -> RulePublic:
    await after.wait()
    collection = await context.read_models.collection(READ_MODEL)
    document = await collection.find_one({"_id": str(rule_id)})
    if document is None:
        raise HTTPException(404, f"no rule {rule_id} (a new rule shows up within moments)")
    require_visible(principal, document["owner_id"], "rule")
    [public] = await _publics(context, [document])
    return public
