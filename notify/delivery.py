"""Delivering one notice to one channel: rate limit, send, retry, or give up.

1. Take a token from the (user, channel) bucket (every kind but web, which calls no
   one). None there: wait for one if the alert's wait budget allows, else hold the
   delivery until one will be there (`Deferred`) — a limited message is late, never
   dropped.
2. Send. A transient failure is retried after `RetryPolicy.delay_s` (which honours the
   channel's Retry-After) while attempts and the wait budget last; then, or on a
   `ChannelUnavailableError`, the delivery is given up (`Failed`, `gave_up`). A
   permanent failure ends it at once (`Failed`).

Retries do not take tokens again: the bucket counts messages, not requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import structlog

from aggregates.channels import Channel
from handlers.token_bucket import TokenBucket
from notify.clock import Clock, Sleep
from notify.errors import (
    ChannelUnavailableError,
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from notify.keys import NotifyKeys
from notify.rendering import Notice
from notify.retry import RetryPolicy
from notify.senders import Receipt, Sender

log = structlog.get_logger(__name__)

UNLIMITED_KINDS = frozenset({"web"})


@dataclass
class Budget:
    """Seconds one alert may still spend waiting in place, shared by its channels."""

    left_s: float


@dataclass(frozen=True)
class Sent:
    receipt: Receipt
    attempts: int


@dataclass(frozen=True)
class Failed:
    error: DeliveryError
    attempts: int
    gave_up: bool
    """True: may succeed if retried later (dead-lettered); False: refused for good."""
    reason: str


@dataclass(frozen=True)
class Deferred:
    until: datetime


Result = Sent | Failed | Deferred


class Deliverer:
    def __init__(
        self,
        senders: Mapping[str, Sender[Any]],
        limiter: TokenBucket,
        keys: NotifyKeys,
        policy: RetryPolicy,
        *,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self._senders = senders
        self._limiter = limiter
        self._keys = keys
        self._policy = policy
        self._clock = clock
        self._sleep = sleep

    async def deliver(
        self,
        user_id: UUID,
        channel_id: str,
        channel: Channel,
        notice: Notice,
        *,
        delivery_id: UUID,
        budget: Budget,
    ) -> Result:
        if channel.kind not in UNLIMITED_KINDS:
            until = await self._token(self._keys.rate(user_id, channel_id), budget)
            if until is not None:
                return Deferred(until)
        return await self._send(channel_id, channel, notice, delivery_id, budget)

    async def _token(self, key: str, budget: Budget) -> datetime | None:
        """Wait for a token; or, when that would exceed the budget, when to come back."""
        while True:
            taken = await self._limiter.take(key)
            if taken.allowed:
                return None
            wait_s = taken.wait_ms / 1000
            if wait_s > budget.left_s:
                return self._clock() + timedelta(seconds=wait_s)
            log.info("rate limited; waiting for a token", wait_s=wait_s)
            budget.left_s -= wait_s
            await self._sleep(wait_s)

    async def _send(
        self, channel_id: str, channel: Channel, notice: Notice, delivery_id: UUID, budget: Budget
    ) -> Sent | Failed:
        sender = self._senders[channel.kind]
        return await send_with_retries(
            lambda: sender.send(channel, notice, delivery_id),
            self._policy,
            self._sleep,
            budget,
            channel_id=channel_id,
            channel_kind=channel.kind,
        )


async def send_with_retries(
    send: Callable[[], Awaitable[Receipt]],
    policy: RetryPolicy,
    sleep: Sleep,
    budget: Budget,
    *,
    channel_id: str,
    channel_kind: str,
) -> Sent | Failed:
    """Step 2 above for one message: `send` is called again for each attempt."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return Sent(await send(), attempt)
        except PermanentDeliveryError as error:
            return Failed(error, attempt, gave_up=False, reason=str(error))
        except ChannelUnavailableError as error:
            return Failed(error, attempt, gave_up=True, reason=str(error))
        except TransientDeliveryError as error:
            if attempt >= policy.max_attempts:
                return Failed(
                    error, attempt, gave_up=True, reason=f"{error} (after {attempt} attempts)"
                )
            wait_s = policy.delay_s(attempt, error.retry_after_s)
            if wait_s > budget.left_s:
                return Failed(
                    error,
                    attempt,
                    gave_up=True,
                    reason=f"{error} (the next try was due in {wait_s:g}s, more than the"
                    f" {budget.left_s:g}s of IMPRESSOX_NOTIFY_WAIT_MAX_S left)",
                )
            log.warning(
                "delivery failed; retrying",
                channel_id=channel_id,
                channel_kind=channel_kind,
                attempt=attempt,
                retry_in_s=round(wait_s, 3),
                error=str(error),
            )
            budget.left_s -= wait_s
            await sleep(wait_s)
