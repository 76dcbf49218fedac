"""The alert tools: create a price or post alert, list, pause, resume and delete them.

Creating a rule goes through the AlertRule aggregate (so it is an event with the
conversation's correlation id, like any other command); rules are read from their read
model. Rules are named to the user by their number in their list ("pause alert 3"),
oldest first, as `list_alerts` shows them; a change applies to one by its number, to
those on a symbol, or to all. A created rule comes with its health (whether it can fire
now, and if not why: `projections.rule_health`): a tool never claims more than happened.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from agent.context import AgentContext
from agent.rule_creation import create_rule, describe, health_summary, user_rules
from agent.tools import agent_tool
from events.catalog import Symbol
from events.numbers import figure
from projections.readmodels.prices import Prices, latest
from projections.rule_health import RuleView


class CreateAlertArgs(BaseModel):
    symbol: Symbol
    condition: Literal[
        "above",
        "below",
        "crosses_up",
        "crosses_down",
        "percent_change",
        "absolute_move",
        "volume_spike",
        "reaches",
    ]
    threshold: float | None = Field(
        default=None,
        gt=0,
        description="Price, for above/below/crosses/reaches (reaches: the price gets there"
        " from wherever it is; the side is chosen from the latest price)",
    )
    percent: float | None = Field(default=None, gt=0, description="For percent_change")
    amount: float | None = Field(default=None, gt=0, description="For absolute_move")
    multiple: float | None = Field(
        default=None, gt=1, description="For volume_spike: times the window's mean volume"
    )
    window_s: int = Field(
        default=3600, gt=0, description="For percent_change/absolute_move/volume_spike"
    )
    direction: Literal["up", "down", "either"] = "either"
    venue: str | None = Field(
        default=None, pattern=r"^[a-z0-9_-]{1,32}$", description="Only this exchange's prices"
    )
    frequency: Literal["once", "every_time", "at_most_once_per"] = Field(
        default="at_most_once_per",
        description="once: then the alert completes; every_time: each time it holds, after"
        " interval_s of quiet; at_most_once_per: at most once in each interval_s",
    )
    interval_s: int = Field(default=3600, gt=0, description="For every_time/at_most_once_per")
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the alert ends (ISO 8601 with a time zone)"
    )


class AlertSelection(BaseModel):
    """Which alerts a change is about: one by its number, every one on a symbol, or all."""

    number: int | None = Field(default=None, ge=1, description="The alert's number in the list")
    symbol: Symbol | None = Field(default=None, description="Every alert on this symbol")
    all: bool = Field(default=False, description="Every alert")

    @model_validator(mode="after")
    def _one_way(self) -> AlertSelection:
        if sum((self.number is not None, self.symbol is not None, self.all)) != 1:
            raise ValueError("give exactly one of: number, symbol, all")
        return self


class ListArgs(BaseModel):
    symbol: Symbol | None = Field(default=None, description="Only alerts on this symbol")
    status: Literal["active", "paused", "completed", "expired"] | None = None


def spec_of(arguments: CreateAlertArgs) -> dict[str, Any]:
    """The RuleSpec a request describes, named in words; the aggregate validates it."""
    condition: dict[str, Any] = {"type": arguments.condition}
    if arguments.condition in ("above", "below", "crosses_up", "crosses_down"):
        condition["threshold"] = arguments.threshold
    elif arguments.condition == "volume_spike":
        condition |= {"multiple": arguments.multiple, "window_s": arguments.window_s}
    else:
        size = "percent" if arguments.condition == "percent_change" else "amount"
        condition |= {size: getattr(arguments, size), "window_s": arguments.window_s}
        condition["direction"] = arguments.direction
    frequency: dict[str, Any] = {"kind": arguments.frequency}
    if arguments.frequency == "every_time":
        frequency["cooldown_s"] = arguments.interval_s
    elif arguments.frequency == "at_most_once_per":
        frequency["interval_s"] = arguments.interval_s
    target: dict[str, Any] = {"kind": "symbol", "symbol": arguments.symbol}
    if arguments.venue is not None:
        target["venue"] = arguments.venue
    spec: dict[str, Any] = {
        "target": target,
        "condition": condition,
        "frequency": frequency,
        "channels": ["web"],
    }
    if arguments.expires_at is not None:
        spec["expires_at"] = arguments.expires_at.isoformat()
    return spec | {"name": describe(spec)[:80]}


async def _selected(
    context: AgentContext, selection: AlertSelection
) -> list[tuple[int, dict[str, Any]]]:
    """The selected rules with their numbers (a symbol's include its post rules)."""
    rules = list(enumerate(await user_rules(context), 1))
    if selection.number is not None:
        if selection.number > len(rules):
            raise LookupError(f"you have {len(rules)} alerts; there is no alert {selection.number}")
        return [rules[selection.number - 1]]
    if selection.all:
        if not rules:
            raise LookupError("you have no alerts")
        return rules
    base = str(selection.symbol).split("/")[0]
    chosen = [
        (number, rule)
        for number, rule in rules
        if rule["spec"]["target"].get("symbol") == selection.symbol
        or rule["spec"]["target"].get("keyword") == base
    ]
    if not chosen:
        raise LookupError(f"you have no {selection.symbol} alerts")
    return chosen


@agent_tool(
    "alerts",
    description="Create a price alert for the user (delivered on the web and in the chats"
    " the user turned alerts on in).",
    effect="repeatable",
)
async def create_alert(context: AgentContext, arguments: CreateAlertArgs) -> dict[str, Any]:
    if arguments.condition != "reaches":
        return await create_rule(context, spec_of(arguments))
    sided, note = await _sided(context, arguments)
    return await create_rule(context, spec_of(sided)) | {"note": note}


async def _sided(context: AgentContext, arguments: CreateAlertArgs) -> tuple[CreateAlertArgs, str]:
    """A level to reach ("when BTC hits 100k"): above it when the latest price is under
    it, else below it; said in the result, so the answer says which way it fires. With
    no price known, which way is not guessed: the side is asked for."""
    level, symbol = arguments.threshold, arguments.symbol
    if level is None:
        raise ValueError("say the price the alert waits for")
    prices = await context.read_models.collection(Prices.name)
    found = await latest(prices, symbol, arguments.venue.lower() if arguments.venue else None)
    if found is None:
        raise ValueError(
            f"I have no price of {symbol} yet, so I cannot tell which way {figure(level)} is:"
            " say above or below it"
        )
    price = float(found["price"])
    side, verb = ("above", "rises above") if level > price else ("below", "falls below")
    note = f"{symbol} is at {figure(price)}, so this fires when it {verb} {figure(level)}"
    return arguments.model_copy(update={"condition": side}), note


class PostAlertArgs(BaseModel):
    keyword: str | None = Field(
        default=None, min_length=1, max_length=64, description="A cashtag or word, e.g. SOL"
    )
    account: str | None = Field(
        default=None, pattern=r"^@?[A-Za-z0-9_]{1,32}$", description="Only posts by this account"
    )
    min_engagement: int = Field(
        default=0, ge=0, description="Likes + reposts + replies + quotes a post needs"
    )


@agent_tool(
    "alerts",
    description="Alert the user when posts mention a keyword or cashtag, or when an"
    " account posts, with at least some engagement (delivered on the web).",
    effect="repeatable",
)
async def create_post_alert(context: AgentContext, arguments: PostAlertArgs) -> dict[str, Any]:
    if arguments.keyword is None and arguments.account is None:
        raise ValueError("say which keyword, cashtag or account to watch")
    target: dict[str, Any] = {"kind": "posts"}
    if arguments.keyword is not None:
        target["keyword"] = arguments.keyword.lstrip("$").upper()
    if arguments.account is not None:
        target["account"] = arguments.account.lstrip("@")
    spec = {
        "target": target,
        "condition": {"type": "mentioned", "min_engagement": arguments.min_engagement},
        "frequency": {"kind": "every_time", "cooldown_s": 600},
        "channels": ["web"],
    }
    return await create_rule(context, spec | {"name": describe(spec)[:80]})


@agent_tool(
    "alerts",
    description="The user's alerts, numbered oldest first; only those on a symbol or in a"
    " status if asked (the numbers stay those of the whole list).",
)
async def list_alerts(context: AgentContext, arguments: ListArgs) -> dict[str, Any]:
    rules = await user_rules(context)
    views = [RuleView(rule["owner_id"], rule["spec"], rule["status"]) for rule in rules]
    healths = await context.rule_health.health(views)
    base = arguments.symbol.split("/")[0] if arguments.symbol else None
    alerts = [
        {
            "number": n,
            "summary": describe(rule["spec"]),
            "status": rule["status"],
            "health": health_summary(health),
        }
        for n, (rule, health) in enumerate(zip(rules, healths, strict=True), 1)
        if (arguments.status is None or rule["status"] == arguments.status)
        and (
            arguments.symbol is None
            or rule["spec"]["target"].get("symbol") == arguments.symbol
            or rule["spec"]["target"].get("keyword") == base
        )
    ]
    result: dict[str, Any] = {"alerts": alerts}
    if arguments.symbol is not None or arguments.status is not None:
        result |= {"of": len(rules), "symbol": arguments.symbol, "status": arguments.status}
    return result


ACTS_ON = {
    "pause": ("active",),
    "resume": ("paused",),
    "delete": ("active", "paused", "completed", "expired"),
}
"""The statuses a change applies to, when it is asked for several alerts at once."""


async def _change(context: AgentContext, selection: AlertSelection, command: str) -> dict[str, Any]:
    """Apply `command` to the selected alerts: one by number (refused if it cannot), or
    each of several that it applies to, saying which were left as they were."""
    service = context.services.alert_rules
    changed, unchanged = [], []
    for number, rule in await _selected(context, selection):
        entry = {"number": number, "summary": describe(rule["spec"])}
        if selection.number is None and rule["status"] not in ACTS_ON[command]:
            unchanged.append(entry | {"status": rule["status"]})
            continue
        await asyncio.to_thread(getattr(service, command), UUID(rule["_id"]))
        changed.append(entry)
    result: dict[str, Any] = {"alerts": changed, "unchanged": unchanged}
    return changed[0] | result if selection.number is not None else result


async def deletion_question(context: AgentContext, selection: AlertSelection) -> str:
    """ "Delete alert 1, 'ETH/USDT below 3,000'?": what a deletion would remove."""
    selected = await _selected(context, selection)
    if selection.number is not None:
        number, rule = selected[0]
        return f"Delete alert {number}, '{describe(rule['spec'])}'?"
    which = "all your alerts" if selection.all else f"your {selection.symbol} alerts"
    listed = "; ".join(f"{number}. {describe(rule['spec'])}" for number, rule in selected)
    return f"Delete {which} ({listed})?"


@agent_tool(
    "alerts",
    description="Pause the user's alerts: one by its number, those on a symbol, or all.",
    effect="repeatable",
)
async def pause_alert(context: AgentContext, arguments: AlertSelection) -> dict[str, Any]:
    return await _change(context, arguments, "pause")


@agent_tool(
    "alerts",
    description="Resume paused alerts: one by its number, those on a symbol, or all.",
    effect="repeatable",
)
async def resume_alert(context: AgentContext, arguments: AlertSelection) -> dict[str, Any]:
    return await _change(context, arguments, "resume")


@agent_tool(
    "alerts",
    description="Delete the user's alerts: one by its number, those on a symbol, or all.",
    confirm=True,
    effect="once",
    ask=deletion_question,
)
async def delete_alert(context: AgentContext, arguments: AlertSelection) -> dict[str, Any]:
    return await _change(context, arguments, "delete")
