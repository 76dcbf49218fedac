"""Watches: the wallets, accounts and keywords each user follows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from uuid import UUID

from aggregates.destinations import DestinationPolicy, RefusedDestinationError
from aggregates.errors import InvalidCommandError, NotFoundError
from aggregates.evm import EvmAddress
from aggregates.services.base import Service
from aggregates.validation import validated, validated_value
from aggregates.watch import (
    FollowedAccount,
    Keyword,
    SocialPlatform,
    Watch,
    WatchedWallet,
    watch_id,
)


class Watches(Service[Watch]):
    """Users' watch lists, opened on first use."""

    name = "watches"
    kind = "watch"
    aggregate_class = Watch

    def __init__(self, env: Mapping[str, str], destinations: DestinationPolicy | None = None):
        super().__init__(env)
        self.destinations = destinations or DestinationPolicy()
        """Where a watched feed may point: the RSS source fetches it (checked again on
        every connection there)."""

    def watch_wallet(
        self, user_id: UUID, address: str, *, ens: str | None = None, label: str | None = None
    ) -> str:
        """Watch a wallet; returns its checksummed address."""
        wallet = validated(WatchedWallet, {"address": address, "ens": ens, "label": label})
        self._change(user_id, lambda watch: watch.watch_wallet(wallet))
        return wallet.address

    def unwatch_wallet(self, user_id: UUID, address: str) -> None:
        checksummed = validated_value(EvmAddress, address, field="address")
        self._change(user_id, lambda watch: watch.unwatch_wallet(checksummed))

    def follow_account(self, user_id: UUID, platform: SocialPlatform, handle: str) -> None:
        account = validated(FollowedAccount, {"platform": platform, "handle": handle})
        if account.platform == "rss":
            self._check_feed(account.handle)
        self._change(user_id, lambda watch: watch.follow_account(account))

    def unfollow_account(self, user_id: UUID, platform: SocialPlatform, handle: str) -> None:
        account = validated(FollowedAccount, {"platform": platform, "handle": handle})
        self._change(user_id, lambda watch: watch.unfollow_account(account))

    def follow_keyword(self, user_id: UUID, keyword: str) -> None:
        checked = validated_value(Keyword, keyword, field="keyword")
        self._change(user_id, lambda watch: watch.follow_keyword(checked))

    def unfollow_keyword(self, user_id: UUID, keyword: str) -> None:
        self._change(user_id, lambda watch: watch.unfollow_keyword(keyword))

    def clear(self, user_id: UUID) -> int | None:
        """Unwatch and unfollow everything (a deleted user's list), so the sources stop
        fetching for them; the last notification id, None if there was nothing."""
        try:
            watch: Watch = self.load(watch_id(user_id))
        except NotFoundError:
            return None
        for address in list(watch.wallets):
            watch.unwatch_wallet(address)
        for account in list(watch.accounts):
            watch.unfollow_account(account)
        for keyword in list(watch.keywords):
            watch.unfollow_keyword(keyword)
        return self.commit(watch)

    def _check_feed(self, url: str) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidCommandError("a feed is an http:// or https:// URL", field="handle")
        try:
            self.destinations.check_url(url)
        except RefusedDestinationError as refused:
            raise InvalidCommandError(str(refused), field="handle") from None

    def _change(self, user_id: UUID, change: Callable[[Watch], None]) -> None:
        try:
            watch: Watch = self.load(watch_id(user_id))
        except NotFoundError:
            watch = Watch(user_id=user_id)
        change(watch)
        self.commit(watch)
