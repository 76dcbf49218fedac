"""What a user follows beyond prices: wallets, social accounts, keywords. One per user."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from pydantic import Field, field_validator

from aggregates.errors import DomainError, NotFoundError
from aggregates.evm import EnsName, EvmAddress
from aggregates.model import (
    Aggregate,
    AggregateSnapshot,
    Immutable,
    SnapshotState,
    register_aggregate,
)

SocialPlatform = Literal["x", "rss"]

_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/watch")


def watch_id(user_id: UUID) -> UUID:
    """A user's one watch list: the same id every time."""
    return uuid5(_NAMESPACE, str(user_id))


class WatchedWallet(Immutable):
    """A wallet, checksummed; its ENS name, if it has one, kept as a label."""

    address: EvmAddress
    ens: EnsName | None = None
    label: str | None = Field(default=None, max_length=64)


class FollowedAccount(Immutable):
    platform: SocialPlatform
    handle: str = Field(min_length=1, max_length=512)

    @field_validator("handle")
    @classmethod
    def _normalise(cls, handle: str) -> str:
        return handle.removeprefix("@") if not handle.startswith("http") else handle


Keyword = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\$?[\w][\w .-]*$")]


class WatchState(SnapshotState):
    user_id: UUID
    wallets: dict[str, WatchedWallet]
    accounts: list[FollowedAccount]
    keywords: list[str]


class Watch(Aggregate):
    """One user's watch list."""

    class Snapshot(AggregateSnapshot):
        state: WatchState

    @staticmethod
    def create_id(user_id: UUID) -> UUID:
        """One watch list per user: the id is derived from the user's."""
        return watch_id(user_id)

    @event("Opened")
    def __init__(self, user_id: UUID) -> None:
        self.user_id = user_id
        self.wallets: dict[str, WatchedWallet] = {}
        self.accounts: list[FollowedAccount] = []
        self.keywords: list[str] = []

    def watch_wallet(self, wallet: WatchedWallet) -> None:
        if wallet.address in self.wallets:
            raise DomainError(f"wallet {wallet.address} is watched already")
        self._wallet_watched(wallet)

    def unwatch_wallet(self, address: str) -> None:
        if address not in self.wallets:
            raise NotFoundError(f"wallet {address} is not watched")
        self._wallet_unwatched(address)

    def follow_account(self, account: FollowedAccount) -> None:
        if account in self.accounts:
            raise DomainError(f"{account.platform} account {account.handle} is followed already")
        self._account_followed(account)

    def unfollow_account(self, account: FollowedAccount) -> None:
        if account not in self.accounts:
            raise NotFoundError(f"{account.platform} account {account.handle} is not followed")
        self._account_unfollowed(account)

    def follow_keyword(self, keyword: str) -> None:
        normalised = keyword.strip().lower()
        if normalised in self.keywords:
            raise DomainError(f"keyword {normalised!r} is followed already")
        self._keyword_followed(normalised)

    def unfollow_keyword(self, keyword: str) -> None:
        normalised = keyword.strip().lower()
        if normalised not in self.keywords:
            raise NotFoundError(f"keyword {normalised!r} is not followed")
        self._keyword_unfollowed(normalised)

    @event("WalletWatched")
    def _wallet_watched(self, wallet: WatchedWallet) -> None:
        self.wallets[wallet.address] = wallet

    @event("WalletUnwatched")
    def _wallet_unwatched(self, address: str) -> None:
        del self.wallets[address]

    @event("AccountFollowed")
    def _account_followed(self, account: FollowedAccount) -> None:
        self.accounts.append(account)

    @event("AccountUnfollowed")
    def _account_unfollowed(self, account: FollowedAccount) -> None:
        self.accounts.remove(account)

    @event("KeywordFollowed")
    def _keyword_followed(self, keyword: str) -> None:
        self.keywords.append(keyword)

    @event("KeywordUnfollowed")
    def _keyword_unfollowed(self, keyword: str) -> None:
        self.keywords.remove(keyword)


register_aggregate(Watch, "watch")
