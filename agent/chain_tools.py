"""The chain tools: what a wallet did, an alert on a wallet's transfers, the router's fees.

They read the chain read models (`wallet_activity`, `chain_events`), which the chain
watcher feeds; each answer says how sure the chain is of what it shows (observed,
confirmed, or retracted by a reorg), and, while no chain watcher runs, that nothing is
being seen. The wallet alert is a chain rule created through the AlertRule aggregate,
like every rule the agent creates (`rule_creation.create_rule`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.context import AgentContext
from agent.rule_creation import create_rule
from agent.tools import agent_tool
from projections.readmodels.chain_events import ChainEvents
from projections.readmodels.free_form import from_text
from projections.readmodels.wallet_activity import WalletActivity

DAY_S = 86_400
MAX_TRANSFERS = 50
MAX_FEES = 10_000
Address = Field(pattern=r"^0x[0-9a-fA-F]{40}$")


class WalletActivityArgs(BaseModel):
    address: str = Address
    window_s: int = Field(default=DAY_S, gt=0, le=90 * DAY_S, description="How far back")


class WalletAlertArgs(BaseModel):
    address: str = Address
    direction: Literal["in", "out", "either"] = Field(
        default="either", description="out: it sends; in: it receives"
    )
    min_amount: float = Field(default=0, ge=0, description="In whole tokens, e.g. 10 (ETH)")
    token: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9.]{1,16}$", description="A symbol, e.g. ETH, USDC"
    )


class FeesArgs(BaseModel):
    window_s: int = Field(default=7 * DAY_S, gt=0, le=365 * DAY_S, description="How far back")


def _since(window_s: int) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=window_s)


@agent_tool(
    "account",
    description="What a wallet sent and received on chain recently, each transfer observed,"
    " confirmed or retracted by a reorg.",
)
async def wallet_activity(context: AgentContext, arguments: WalletActivityArgs) -> dict[str, Any]:
    collection = await context.read_models.collection(WalletActivity.name)
    query = {
        "wallet": arguments.address.lower(),
        "observed_at": {"$gte": _since(arguments.window_s)},
    }
    documents = await collection.find(query).sort("observed_at", -1).to_list(MAX_TRANSFERS)
    transfers = [
        {
            key: document[key]
            for key in (
                "direction",
                "counterparty",
                "symbol",
                "amount",
                "raw_amount",
                "usd_value",
                "status",
                "tx_hash",
                "block_number",
            )
        }
        for document in documents
    ]
    return {
        "address": arguments.address,
        "window_s": arguments.window_s,
        "transfers": transfers,
        "chain_watched": await context.rule_health.chain_is_watched(),
    }


@agent_tool(
    "alerts",
    description="Alert the user when a wallet sends (out) or receives (in) a transfer,"
    " optionally of one token and at least an amount (delivered on the web).",
    effect="repeatable",
)
async def create_wallet_alert(context: AgentContext, arguments: WalletAlertArgs) -> dict[str, Any]:
    target: dict[str, Any] = {"kind": "chain", "wallet": arguments.address}
    if arguments.direction != "either":
        target["direction"] = arguments.direction
    if arguments.token is not None:
        target["token"] = arguments.token.upper()
    spec = {
        "target": target,
        "condition": {"type": "transferred", "min_amount": arguments.min_amount},
        "frequency": {"kind": "every_time", "cooldown_s": 0},
        "channels": ["web"],
    }
    return await create_rule(context, spec)


@agent_tool(
    "account",
    description="Fees our router collected (FeeCollected events) recently, per token.",
)
async def fees_collected(context: AgentContext, arguments: FeesArgs) -> dict[str, Any]:
    events = await context.read_models.collection(ChainEvents.name)
    query = {
        "event": "FeeCollected",
        "removed": False,
        "observed_at": {"$gte": _since(arguments.window_s)},
    }
    raw: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    async for document in events.find(query, {"args_json": 1}).limit(MAX_FEES):
        args = from_text(document["args_json"])
        if isinstance(args, dict) and isinstance(args.get("amount"), int):
            token = str(args.get("token", ""))
            raw[token] += args["amount"]
            counts[token] += 1
    activity = await context.read_models.collection(WalletActivity.name)
    fees = []
    for token, total in sorted(raw.items()):
        known = await activity.find_one(
            {"token": token, "amount": {"$ne": None}}, {"symbol": 1, "amount": 1, "raw_amount": 1}
        )
        scale = _scale(known)
        fees.append(
            {
                "token": token,
                "symbol": known.get("symbol") if known else None,
                "count": counts[token],
                "raw_amount": str(total),
                "amount": None if scale is None else total * scale,
            }
        )
    return {
        "window_s": arguments.window_s,
        "fees": fees,
        "chain_watched": await context.rule_health.chain_is_watched(),
    }


def _scale(transfer: dict[str, Any] | None) -> float | None:
    """Whole tokens per smallest unit, from one transfer of the token whose amount the
    watcher scaled (it knew the token's decimals)."""
    if transfer is None or not int(transfer["raw_amount"]):
        return None
    return float(transfer["amount"]) / int(transfer["raw_amount"])
