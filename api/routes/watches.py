"""What a user follows beyond prices: wallets, social accounts and keywords.

Commands go to the Watch aggregate (one per user, opened on first use); the list comes
from the `watches` read model. An admin key may act for another user with ``?user_id=``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from aggregates.watch import FollowedAccount, Keyword, SocialPlatform, WatchedWallet, watch_id
from api.commands import COMMAND_REFUSALS, READ_RESPONSES, Accepted, accepted, run_command
from api.consistency import AfterWrites, read_after
from api.deps import ActingFor, ActingForLive, Context, WaitFor
from api.reading import problem_responses
from projections.readmodels.watches import Watches

router = APIRouter(tags=["watches"])

WATCHES = Watches.name
WatchesAfter = Annotated[AfterWrites, Depends(read_after(WATCHES))]
COMMAND_RESPONSES = {
    **COMMAND_REFUSALS,
    **problem_responses(404, s404="No such user (an admin's user_id)."),
}


class WatchList(BaseModel):
    wallets: list[WatchedWallet]
    accounts: list[FollowedAccount]
    keywords: list[str]


class WalletWatched(Accepted):
    """A wallet watch's receipt, saying whether anything reports on it now."""

    chain_watched: bool = Field(
        description="Whether a chain watcher runs: if not, the wallet's activity is not"
        " recorded until one does (see `detail`)."
    )
    detail: str | None = Field(
        default=None, description="What the watch waits for, when a chain watcher is missing."
    )


NO_CHAIN_WATCHER = (
    "No chain watcher runs: nothing about this wallet is recorded until one does (set"
    " CHAIN_RPC_URL, or run `impressox chain watch`)."
)


class NewKeyword(BaseModel):
    keyword: Keyword


@router.get(
    "/watches",
    response_model=WatchList,
    summary="Wallets, accounts, keywords you follow",
    responses=READ_RESPONSES,
)
async def list_watches(context: Context, user_id: ActingFor, after: WatchesAfter) -> WatchList:
    await after.wait()
    collection = await context.read_models.collection(WATCHES)
    document = await collection.find_one({"_id": str(watch_id(user_id))})
    if document is None:
        return WatchList(wallets=[], accounts=[], keywords=[])
    return WatchList.model_validate(document)


@router.post(
    "/watches/wallets",
    response_model=WalletWatched,
    status_code=201,
    summary="Watch a wallet",
    responses=COMMAND_RESPONSES,
)
async def watch_wallet(
    body: WatchedWallet, context: Context, user_id: ActingForLive, wait: WaitFor
) -> WalletWatched:
    """Accepted whether or not a chain watcher runs (one may start later); the receipt
    says which, as a rule's health does."""
    watches = context.services.watches
    address = await run_command(
        watches.retrying,
        lambda: watches.watch_wallet(user_id, body.address, ens=body.ens, label=body.label),
    )
    receipt = await accepted(context, wait, application=watches.name, resource_id=address)
    watched = await context.rule_health.chain_is_watched()
    return WalletWatched(
        **receipt.model_dump(),
        chain_watched=watched,
        detail=None if watched else NO_CHAIN_WATCHER,
    )


@router.delete(
    "/watches/wallets/{address}",
    response_model=Accepted,
    summary="Stop watching a wallet",
    responses=COMMAND_RESPONSES,
)
async def unwatch_wallet(
    address: str, context: Context, user_id: ActingForLive, wait: WaitFor
) -> Accepted:
    watches = context.services.watches
    await run_command(watches.retrying, lambda: watches.unwatch_wallet(user_id, address))
    return await accepted(context, wait, application=watches.name, resource_id=address)


@router.post(
    "/watches/accounts",
    response_model=Accepted,
    status_code=201,
    summary="Follow an account",
    responses=COMMAND_RESPONSES,
)
async def follow_account(
    body: FollowedAccount, context: Context, user_id: ActingForLive, wait: WaitFor
) -> Accepted:
    watches = context.services.watches
    await run_command(
        watches.retrying, lambda: watches.follow_account(user_id, body.platform, body.handle)
    )
    return await accepted(
        context, wait, application=watches.name, resource_id=f"{body.platform}:{body.handle}"
    )


@router.delete(
    "/watches/accounts/{platform}/{handle:path}",
    response_model=Accepted,
    summary="Stop following an account",
    responses=COMMAND_RESPONSES,
)
async def unfollow_account(
    platform: SocialPlatform,
    handle: str,
    *,
    context: Context,
    user_id: ActingForLive,
    wait: WaitFor,
) -> Accepted:
    watches = context.services.watches
    await run_command(watches.retrying, lambda: watches.unfollow_account(user_id, platform, handle))
    return await accepted(
        context, wait, application=watches.name, resource_id=f"{platform}:{handle}"
    )


@router.post(
    "/watches/keywords",
    response_model=Accepted,
    status_code=201,
    summary="Follow a keyword",
    responses=COMMAND_RESPONSES,
)
async def follow_keyword(
    body: NewKeyword, context: Context, user_id: ActingForLive, wait: WaitFor
) -> Accepted:
    watches = context.services.watches
    await run_command(watches.retrying, lambda: watches.follow_keyword(user_id, body.keyword))
    return await accepted(
        context, wait, application=watches.name, resource_id=body.keyword.strip().lower()
    )


@router.delete(
    "/watches/keywords/{keyword}",
    response_model=Accepted,
    summary="Stop following a keyword",
    responses=COMMAND_RESPONSES,
)
async def unfollow_keyword(
    keyword: str, context: Context, user_id: ActingForLive, wait: WaitFor
) -> Accepted:
    watches = context.services.watches
    await run_command(watches.retrying, lambda: watches.unfollow_keyword(user_id, keyword))
    return await accepted(
        context, wait, application=watches.name, resource_id=keyword.strip().lower()
    )
