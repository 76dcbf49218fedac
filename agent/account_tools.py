"""The account tools: watches (wallets, social accounts) and what the user tells the
agent about themselves (long-term memory)."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field

from agent.context import AgentContext
from agent.memory import recall_facts
from agent.tools import agent_tool
from aggregates.memory import MAX_FACT_CHARS, Fact
from aggregates.watch import SocialPlatform, watch_id
from projections.readmodels.watches import Watches


class WalletArgs(BaseModel):
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")


class AccountArgs(BaseModel):
    platform: SocialPlatform = "x"
    handle: str = Field(pattern=r"^@?[A-Za-z0-9_]{1,32}$")


# -- account --------------------------------------------------------------------------------


@agent_tool(
    "account",
    description="Add a wallet to the user's watches (its activity is reported while a chain"
    " watcher runs).",
    effect="repeatable",
)
async def watch_wallet(context: AgentContext, arguments: WalletArgs) -> dict[str, Any]:
    watches = context.services.watches
    address = await asyncio.to_thread(watches.watch_wallet, context.user_id, arguments.address)
    watched = await context.rule_health.chain_is_watched()
    return {"watching": f"wallet {address}", "chain_watched": watched}


@agent_tool("account", description="Follow a social account's posts.", effect="repeatable")
async def follow_account(context: AgentContext, arguments: AccountArgs) -> dict[str, Any]:
    handle = arguments.handle.lstrip("@")
    watches = context.services.watches
    await asyncio.to_thread(watches.follow_account, context.user_id, arguments.platform, handle)
    return {"watching": f"@{handle} on {arguments.platform}"}


class NoArgs(BaseModel):
    pass


@agent_tool(
    "account",
    description="What the user watches: wallets, social accounts and keywords they follow"
    " (alerts are listed by list_alerts).",
)
async def list_watches(context: AgentContext, arguments: NoArgs) -> dict[str, Any]:
    collection = await context.read_models.collection(Watches.name)
    document = await collection.find_one({"_id": str(watch_id(context.user_id))}) or {}
    wallets = [
        {key: wallet.get(key) for key in ("address", "ens", "label") if wallet.get(key)}
        for wallet in document.get("wallets", [])
    ]
    accounts = [
        {"platform": account.get("platform"), "handle": account.get("handle")}
        for account in document.get("accounts", [])
    ]
    return {"wallets": wallets, "accounts": accounts, "keywords": document.get("keywords", [])}


# -- memory (account) -----------------------------------------------------------------------


class FactArgs(BaseModel):
    fact: str = Field(
        min_length=1,
        max_length=MAX_FACT_CHARS,
        description="What the user stated about themselves, in their words: 'I hold 2 ETH'",
    )


class RecallArgs(BaseModel):
    query: str | None = Field(
        default=None, max_length=500, description="Only what bears on this (else everything)"
    )


class ForgetArgs(BaseModel):
    fact: str = Field(
        min_length=1,
        max_length=MAX_FACT_CHARS,
        description="The fact's id, or what it is about: 'I hold ETH', 'risk tolerance'",
    )


def _fact(fact: Fact) -> dict[str, Any]:
    return {"id": fact.fact_id, "text": fact.text, "subject": fact.subject, **fact.fields}


@agent_tool(
    "account",
    description="Remember a fact the user states about themselves (holdings, the venues"
    " they trade on, preferences) for later conversations; a newer fact about the same"
    " thing replaces the older one.",
    effect="repeatable",
)
async def remember(context: AgentContext, arguments: FactArgs) -> dict[str, Any]:
    remembered = await asyncio.to_thread(
        context.services.memory.remember,
        context.user_id,
        arguments.fact,
        conversation_id=context.conversation_id,
        message_id=context.message_id,
    )
    result = {"remembered": _fact(remembered.fact)}
    if remembered.replaced is not None:
        result["replaced"] = _fact(remembered.replaced)
    return result


@agent_tool(
    "account",
    description="What the user has told you about themselves: everything, or what bears"
    " on a query.",
)
async def recall_memory(context: AgentContext, arguments: RecallArgs) -> dict[str, Any]:
    if arguments.query:
        facts = await recall_facts(context, arguments.query)
    else:
        facts = await asyncio.to_thread(context.services.memory.facts, context.user_id)
    return {"query": arguments.query, "facts": [_fact(fact) for fact in facts]}


@agent_tool(
    "account",
    description="Forget what the user told you, by the fact's id or topic.",
    effect="repeatable",
)
async def forget(context: AgentContext, arguments: ForgetArgs) -> dict[str, Any]:
    memory = context.services.memory
    forgotten = await asyncio.to_thread(memory.forget_about, context.user_id, arguments.fact)
    return {"forgotten": [_fact(fact) for fact in forgotten]}


async def forgetting_question(context: AgentContext, arguments: NoArgs) -> str:
    """ "Forget everything I know about you (3 facts)?"; nothing told: nothing to ask."""
    facts = await asyncio.to_thread(context.services.memory.facts, context.user_id)
    if not facts:
        raise ValueError("you have not told me anything to forget")
    count = f"{len(facts)} fact{'s' if len(facts) != 1 else ''}"
    return f"Forget everything I know about you ({count})?"


@agent_tool(
    "account",
    description="Forget everything the user told you (all remembered facts); asks first.",
    confirm=True,
    effect="repeatable",
    ask=forgetting_question,
)
async def forget_everything(context: AgentContext, arguments: NoArgs) -> dict[str, Any]:
    forgotten = await asyncio.to_thread(context.services.memory.forget_all, context.user_id)
    return {"forgotten": [_fact(fact) for fact in forgotten], "all": True}
