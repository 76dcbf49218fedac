"""Alert rules: a trader's own, created, changed, paused, resumed, deleted and listed.

Commands go to the AlertRule aggregates, and ownership is checked on the aggregate a
command loads (a rule created a moment ago is found even before its read model shows
it); reads come from the `alert_rules` read model. Another user's rule is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from aggregates.alert_rule import AlertRule, Status
from aggregates.rule_spec import RuleSpec
from aggregates.services.alert_rules import AlertRules
from api.auth import User, require_visible
from api.commands import (
    COMMAND_REFUSALS,
    READ_RESPONSES,
    Accepted,
    ActingFor,
    WaitFor,
    accepted,
    run_command,
)
from api.consistency import AfterWrites, read_after
from api.context import Context
from api.keys import Principal
from api.pagination import DEFAULT_LIMIT, Page, page
from api.reading import Cursor, Limit, problem_responses
from projections.model import Document
from projections.readmodels.alert_rules import AlertRules as AlertRulesReadModel

router = APIRouter(prefix="/rules", tags=["rules"])

READ_MODEL = AlertRulesReadModel.name
RulesAfter = Annotated[AfterWrites, Depends(read_after(READ_MODEL))]
NO_RULE = problem_responses(404, s404="No such rule, or another user's.")


class RulePublic(BaseModel):
    id: UUID
    owner_id: UUID
    spec: RuleSpec
    status: Status
    subjects: list[str]
    """What the rule watches: its symbol, keyword, account, wallet or contract."""
    trigger_count: int
    last_triggered_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _public(document: Document) -> RulePublic:
    return RulePublic.model_validate({**document, "id": document["_id"]})


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
    response_model=Accepted,
    status_code=201,
    summary="Create a rule",
    responses=COMMAND_REFUSALS,
)
async def create_rule(
    spec: RuleSpec, context: Context, owner_id: ActingFor, wait: WaitFor
) -> Accepted:
    rules = context.services.alert_rules
    rule_id = await run_command(rules.create, owner_id, spec)
    return await accepted(context, wait, application=rules.name, resource_id=rule_id)


@router.put(
    "/{rule_id}",
    response_model=Accepted,
    summary="Replace a rule's spec",
    responses={**COMMAND_REFUSALS, **NO_RULE},
)
async def update_rule(
    rule_id: UUID, spec: RuleSpec, context: Context, principal: User, wait: WaitFor
) -> Accepted:
    return await _command(context, principal, wait, rule_id, lambda rule: rule.update(spec))


@router.post(
    "/{rule_id}/pause",
    response_model=Accepted,
    summary="Pause an active rule",
    responses={**COMMAND_REFUSALS, **NO_RULE},
)
async def pause_rule(rule_id: UUID, context: Context, principal: User, wait: WaitFor) -> Accepted:
    return await _command(context, principal, wait, rule_id, AlertRule.pause)


@router.post(
    "/{rule_id}/resume",
    response_model=Accepted,
    summary="Resume a paused rule",
    responses={**COMMAND_REFUSALS, **NO_RULE},
)
async def resume_rule(rule_id: UUID, context: Context, principal: User, wait: WaitFor) -> Accepted:
    return await _command(context, principal, wait, rule_id, AlertRule.resume)


@router.delete(
    "/{rule_id}",
    response_model=Accepted,
    summary="Delete a rule (it stays listed with status deleted)",
    responses={**COMMAND_REFUSALS, **NO_RULE},
)
async def delete_rule(rule_id: UUID, context: Context, principal: User, wait: WaitFor) -> Accepted:
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
    return Page[RulePublic](items=[_public(d) for d in documents], next_cursor=next_cursor)


@router.get(
    "/{rule_id}",
    response_model=RulePublic,
    summary="One of your rules",
    responses={**READ_RESPONSES, **NO_RULE},
)
async def get_rule(
    rule_id: UUID, context: Context, principal: User, after: RulesAfter
) -> RulePublic:
    await after.wait()
    collection = await context.read_models.collection(READ_MODEL)
    document = await collection.find_one({"_id": str(rule_id)})
    if document is None:
        raise HTTPException(404, f"no rule {rule_id} (a new rule shows up within moments)")
    require_visible(principal, document["owner_id"], "rule")
    return _public(document)
