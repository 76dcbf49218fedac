"""A wallet's activity and a transaction's events on chain, with their confirmation state.

Shared by everyone, like the chain's own data. A wallet's activity is every value
transfer it sent or received (ERC-20 and native), newest first, each ``observed``,
``confirmed`` or ``retracted`` (a reorg removed it; shown only when asked for); a
transaction's events are its logs (`chain_events`) and its transfers (`wallet_activity`).
The contract logs of an address are `GET /v1/chain/events?address=`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, JsonValue

from api.consistency import READ_AFTER_HEADERS, AfterWrites, read_after
from api.deps import Context, UserKey
from api.pagination import DEFAULT_LIMIT, Page, page
from api.reading import READ_REFUSALS, Cursor, Limit, TimeWindow, problem_responses, time_window
from projections.readmodels.chain_events import ChainEvents
from projections.readmodels.free_form import from_text
from projections.readmodels.wallet_activity import WalletActivity

router = APIRouter(prefix="/chain", tags=["chain"])

ActivityAfter = Annotated[AfterWrites, Depends(read_after(WalletActivity.name))]
EventsAfter = Annotated[AfterWrites, Depends(read_after(ChainEvents.name))]
Window = Annotated[TimeWindow, Depends(time_window)]
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"headers": READ_AFTER_HEADERS},
    **problem_responses(*READ_REFUSALS),
}
Status = Literal["observed", "confirmed", "retracted"]
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
TX_HASH = r"^0x[0-9a-fA-F]{64}$"
MAX_TX_ITEMS = 1000


class TransferPublic(BaseModel):
    id: str = Field(description="`<wallet>|<chain_id>:<tx_hash>:<log_index or native>`")
    wallet: str
    direction: Literal["in", "out"]
    counterparty: str
    chain_id: int
    block_number: int
    block_hash: str
    block_time: datetime | None
    tx_hash: str
    log_index: int | None = Field(description="None for a transaction's native value.")
    token: str | None = Field(description="The ERC-20 contract; None for the native coin.")
    symbol: str | None
    raw_amount: str = Field(description="In the token's smallest unit, exactly.")
    amount: float | None = Field(description="Scaled by the token's decimals, when known.")
    usd_value: float | None = Field(description="At the price known when it was seen.")
    status: Status = Field(description="observed, confirmed, or retracted by a reorg.")
    observed_at: datetime
    updated_at: datetime


class LogPublic(BaseModel):
    id: str
    address: str
    event: str
    args: dict[str, JsonValue]
    block_number: int
    block_hash: str
    log_index: int
    status: Status


class TransactionPublic(BaseModel):
    tx_hash: str
    logs: list[LogPublic] = Field(description="Its logs the watcher saw, by log index.")
    transfers: list[TransferPublic] = Field(description="Its transfers, by wallet.")


@router.get(
    "/wallets/{address}/activity",
    response_model=Page[TransferPublic],
    summary="What a wallet sent and received, newest first, with confirmation state",
    responses=RESPONSES,
)
async def wallet_activity(
    *,
    address: Annotated[str, Path(pattern=ADDRESS)],
    principal: UserKey,
    context: Context,
    after: ActivityAfter,
    window: Window,
    status: Annotated[Status | None, Query(description="Only in this state.")] = None,
    include_retracted: Annotated[
        bool, Query(description="Also transfers a reorg removed.")
    ] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[TransferPublic]:
    await after.wait()
    query: dict[str, Any] = {"wallet": address.lower()}
    if status is not None:
        query["status"] = status
    elif not include_retracted:
        query["status"] = {"$ne": "retracted"}
    observed = window.condition()
    if observed is not None:
        query["observed_at"] = observed
    collection = await context.read_models.collection(WalletActivity.name)
    documents, next_cursor = await page(
        collection, query, sort_field="observed_at", limit=limit, cursor=cursor
    )
    items = [TransferPublic.model_validate({**d, "id": d["_id"]}) for d in documents]
    return Page[TransferPublic](items=items, next_cursor=next_cursor)


@router.get(
    "/transactions/{tx_hash}",
    response_model=TransactionPublic,
    summary="A transaction's logs and transfers as the watcher saw them",
    responses=RESPONSES,
)
async def transaction(
    *,
    tx_hash: Annotated[str, Path(pattern=TX_HASH)],
    principal: UserKey,
    context: Context,
    after: EventsAfter,
    activity_after: ActivityAfter,
) -> TransactionPublic:
    await after.wait()
    await activity_after.wait()
    lowered = tx_hash.lower()
    logs = await context.read_models.collection(ChainEvents.name)
    transfers = await context.read_models.collection(WalletActivity.name)
    found_logs = await logs.find({"tx_hash": lowered}).sort("log_index").to_list(MAX_TX_ITEMS)
    found_transfers = await transfers.find({"tx_hash": lowered}).sort("_id").to_list(MAX_TX_ITEMS)
    return TransactionPublic(
        tx_hash=lowered,
        logs=[
            LogPublic.model_validate({**d, "id": d["_id"], "args": from_text(d["args_json"])})
            for d in found_logs
        ],
        transfers=[TransferPublic.model_validate({**d, "id": d["_id"]}) for d in found_transfers],
    )
