"""Creating a rule for the user, as every agent tool that makes one does it.

A rule the agent creates has an id derived from the call (`RULE_NAMESPACE`), so a call
run twice makes one rule (see `tools.Effect`); its answer says the rule's number in the
user's list, what it watches in words, and its health, so that the answer never
promises an alert that cannot come.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from agent.context import AgentContext
from aggregates.services.owned_rules import create_owned_rule
from events.numbers import figure
from projections.readmodels.alert_rules import AlertRules
from projections.rule_health import RuleHealth, RuleView

RULE_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/agent-rule")
"""A rule the agent creates has the id uuid5(this, call id): a call run twice makes one."""
MAX_RULE_CHANNELS = 8

SEEN_WITHIN_S = 2.0
"""How long a creation waits for the read model to show its rule (its projection takes
milliseconds): the next creation, in the same message ("btc above 100k and below 90k")
or the next one, then counts it, so each rule says its own number."""
SEEN_POLL_S = 0.02
"""A rule names at most this many channels (`aggregates.rule_spec`)."""


def describe(spec: dict[str, Any]) -> str:
    """A rule in words: "BTC/USDT above 100,000", "ETH/USDT moves 5% within 1h"."""
    target, condition = spec["target"], spec["condition"]
    if target["kind"] == "chain":
        return _chain_described(target, condition)
    if condition["type"] == "mentioned":
        return _posts_described(target, condition["min_engagement"])
    return _price_described(target, condition)


def _price_described(target: dict[str, Any], condition: dict[str, Any]) -> str:
    subject = target.get("symbol") or target.get("keyword") or target.get("account") or "?"
    if target.get("venue"):
        subject += f" on {target['venue']}"
    kind = condition["type"]
    if "threshold" in condition:
        words = kind.replace("crosses_", "crosses ").replace("_", " ")
        return f"{subject} {words} {figure(condition['threshold'])}"
    window = _duration(condition.get("window_s", 0))
    if kind == "percent_change":
        return (
            f"{subject} moves {condition['percent']:g}% ({condition['direction']}) within {window}"
        )
    if kind == "absolute_move":
        return (
            f"{subject} moves {figure(condition['amount'])} ({condition['direction']})"
            f" within {window}"
        )
    if kind == "volume_spike":
        return f"{subject} volume {condition['multiple']:g}x its {window} mean"
    return f"{subject}: {kind}"


def _posts_described(target: dict[str, Any], min_engagement: int) -> str:
    """ "posts by @whale mentioning SOL with 500+ engagement"."""
    words = "posts"
    if target.get("account"):
        words += f" by @{target['account']}"
    if target.get("keyword"):
        words += f" mentioning {target['keyword']}"
    return words + (f" with {min_engagement:,}+ engagement" if min_engagement else "")


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _chain_described(target: dict[str, Any], condition: dict[str, Any]) -> str:
    """ "wallet 0x1234…abcd sends 10+ ETH", "0x5fbd…0aa3 emits FeeCollected"."""
    address = target.get("wallet") or target.get("contract") or "?"
    short = f"{address[:6]}…{address[-4:]}"
    if not target.get("wallet"):
        return f"{short} emits {target.get('event') or 'an event'}"
    verb = {"in": "receives", "out": "sends"}.get(target.get("direction") or "either", "moves")
    minimum = condition.get("min_amount") or 0
    amount = f" {figure(minimum)}+" if minimum else ""
    token = f" {target['token']}" if target.get("token") else (" funds" if not amount else "")
    return f"wallet {short} {verb}{amount}{token}"


async def user_rules(context: AgentContext) -> list[dict[str, Any]]:
    """The user's rules that still exist, oldest first: what the numbers refer to."""
    collection = await context.read_models.collection(AlertRules.name)
    rules = await collection.find(
        {"owner_id": str(context.user_id), "status": {"$ne": "deleted"}}
    ).to_list()
    return sorted(rules, key=lambda rule: (rule["created_at"], rule["_id"]))


async def create_rule(context: AgentContext, spec: dict[str, Any]) -> dict[str, Any]:
    """Create the rule under the id derived from the call (see `tools.Effect`); say its
    health, so that the answer never promises an alert that cannot come. Its alerts go
    where the user wants the agent's alerts: the web, and the chats turned on with
    `/notify_on`."""
    wanted = uuid5(RULE_NAMESPACE, context.call_id) if context.call_id else None
    users, rules = context.services.users, context.services.alert_rules
    wanted_channels = await asyncio.to_thread(users.alert_channels, context.user_id)
    spec = spec | {"channels": wanted_channels[:MAX_RULE_CHANNELS]}
    channels, rule_id = await asyncio.to_thread(
        create_owned_rule, users, rules, context.user_id, spec, spec["channels"], rule_id=wanted
    )
    number = await _number_of(context, str(rule_id))
    owner = str(context.user_id)
    [health] = await context.rule_health.health(
        [RuleView(owner, spec, "active")], channels={owner: channels}
    )
    created = {
        "rule_id": str(rule_id),
        "number": number,
        "summary": describe(spec),
        "frequency": spec["frequency"],
        "health": health_summary(health),
    }
    return created | ({"expires_at": spec["expires_at"]} if spec.get("expires_at") else {})


async def _number_of(context: AgentContext, rule_id: str) -> int:
    """The rule's number, once the read model shows it; if that takes longer than
    `SEEN_WITHIN_S`, the number it will have (after the rules shown by then)."""
    deadline = time.monotonic() + SEEN_WITHIN_S
    while True:
        shown = [rule["_id"] for rule in await user_rules(context)]
        if rule_id in shown:
            return shown.index(rule_id) + 1
        if time.monotonic() >= deadline:
            return len(shown) + 1
        await asyncio.sleep(SEEN_POLL_S)


def health_summary(health: RuleHealth) -> dict[str, str]:
    return {"state": health.health, "detail": health.detail}
