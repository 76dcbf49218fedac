"""The notifier's work for one alert: every target channel delivered, held or failed.

For each target channel (the alert's `channels`, or all of the user's when empty), in
order:

1. Already done? The ledger, then the committed events, are asked (see
   `notify.ledger`); a done channel is skipped (its recorded outcome emitted
   again, so a crash before the commit loses nothing).
2. A channel the user no longer has: ``notification.failed`` ("channel removed").
3. In the user's quiet hours (not for web, not for critical alerts): held.
4. Otherwise delivered (`notify.delivery`): rate limited, retried.

Then: held channels hold the alert until the earliest of their release times
(`notify.holds`); outcomes are returned as outputs, committed with the alert's
acknowledgement. If any channel was given up on, the outcomes are appended at once and
`DeliveryGaveUpError` is raised instead, so the runtime dead-letters the alert (after
its own re-attempts, which skip what is done and do not start give-ups over). Retrying
the dead letter tries the given-up channels again and nothing else.

A channel test (``channel.test_requested``) takes the same way to its one channel, with
three differences its owner is told of: quiet hours do not hold it (it is asked for now,
by someone awake); a rate limit that would hold it fails it instead, saying when to try
again; and a channel given up on fails it without a dead letter (a test is asked for
again, not retried by an operator).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import httpx
import structlog
from pydantic import SecretStr

from aggregates.channels import Channel
from events.catalog import AlertTriggered, ChannelTestRequested
from events.envelope import RecordedEvent
from events.store import EventStore
from handlers.declaration import Output
from handlers.token_bucket import TokenBucket
from notify.clock import Clock, Sleep
from notify.config import NotifyContext
from notify.delivery import Budget, Deferred, Deliverer, Result, Sent
from notify.discord_bot import DiscordBotSender
from notify.discord_webhook import DiscordWebhookSender
from notify.holds import Holds
from notify.keys import NotifyKeys
from notify.ledger import Ledger, delivery_id
from notify.outcomes import Delivery, Outcomes
from notify.quiet_hours import quiet_until
from notify.recipients import Recipient, Recipients
from notify.rendering import Notice, test_notice
from notify.retry import Jitter, RetryPolicy
from notify.senders import Sender, WebSender
from notify.telegram_bot import TelegramSender
from notify.webhook import WebhookSender

log = structlog.get_logger(__name__)

QUIETED_LOGGERS = ("httpx", "telegram", "discord")
"""Libraries that log request URLs (at INFO, or DEBUG): the Telegram Bot API's and a
Discord webhook's hold tokens. Kept at WARNING in a notify worker whatever the level."""

UNKNOWN_KIND = "unknown"
NEVER_HELD_KINDS = frozenset({"web"})


@dataclass
class _Alert:
    """One alert's (or channel test's) progress through its channels."""

    outcomes: Outcomes
    notice: Notice
    budget: Budget
    hold_until: datetime | None = None
    dead_letters: bool = True
    """Whether a channel given up on dead-letters the subject (not for a test)."""

    def hold(self, until: datetime) -> None:
        self.hold_until = until if self.hold_until is None else min(self.hold_until, until)


class NotificationService:
    def __init__(
        self,
        store: EventStore,
        recipients: Recipients,
        senders: dict[str, Sender[Any]],
        policy: RetryPolicy,
        limiter: TokenBucket,
        *,
        clock: Clock,
        sleep: Sleep,
        release_interval_s: float,
    ) -> None:
        self._store = store
        self._names = store.names
        keys = NotifyKeys(store.names)
        self._recipients = recipients
        self._senders = senders
        self._policy = policy
        self._ledger = Ledger(store.redis, keys, store.names)
        self._holds = Holds(store.redis, keys, store.names)
        self._deliverer = Deliverer(senders, limiter, keys, policy, clock=clock, sleep=sleep)
        self._clock = clock
        self._release_interval_s = release_interval_s

    @classmethod
    def from_context(
        cls, context: NotifyContext, *, clock: Clock, sleep: Sleep, jitter: Jitter | None
    ) -> NotificationService:
        for name in QUIETED_LOGGERS:
            logger = logging.getLogger(name)
            logger.setLevel(max(logging.WARNING, logger.level))
        config = context.notify
        recipients = Recipients(context.users, config.user_cache_s)
        timeout = config.timeout_s
        senders: dict[str, Sender[Any]] = {
            "web": WebSender(),
            "telegram": TelegramSender(
                _secret(config.telegram_token), config.telegram_api_url, timeout
            ),
            "discord": DiscordBotSender(
                _secret(config.discord_token), config.discord_api_url, timeout
            ),
            "discord_webhook": DiscordWebhookSender(
                httpx.AsyncClient(timeout=timeout),
                config.discord_api_url,
                recipients.open_secret,
                clock,
            ),
            "webhook": WebhookSender(
                config.destinations, recipients.open_secret, clock, timeout_s=timeout
            ),
        }
        limiter = TokenBucket(
            context.store.redis, per_minute=config.rate_per_minute, burst=config.burst
        )
        return cls(
            context.store,
            recipients,
            senders,
            replace(config.retry, jitter=jitter),
            limiter,
            clock=clock,
            sleep=sleep,
            release_interval_s=config.release_interval_s,
        )

    # -- the handler's work --------------------------------------------------------------

    async def handle(self, recorded: RecordedEvent) -> list[Output]:
        event = recorded.event
        alert = event.payload
        if isinstance(alert, ChannelTestRequested):
            return await self._test(recorded, alert)
        if not isinstance(alert, AlertTriggered):
            raise TypeError(f"notify handles alert.triggered, not {event.type}")
        tag = self._names.tag_of(recorded.stream)
        state = _Alert(
            Outcomes(self._ledger, recorded, tag, event.event_id),
            Notice(event.event_id, alert),
            Budget(self._policy.wait_max_s),
        )
        recipient = await self._recipients.get(alert.user_id)
        if recipient is None:
            log.warning("alert for an unknown user; nothing to deliver", user_id=str(alert.user_id))
        targets = alert.channels or (tuple(recipient.channels) if recipient else ())
        quiet_end = None
        if recipient is not None and alert.severity != "critical":
            quiet_end = quiet_until(recipient.quiet_hours, self._clock())
        for channel_id in dict.fromkeys(targets):
            await self._channel(state, recipient, channel_id, quiet_end)
        if state.hold_until is not None:
            await self._holds.hold(tag, event, state.hold_until)
            log.info("alert held", until=state.hold_until.isoformat())
        return await state.outcomes.finish(self._store, _gave_up)

    async def _test(self, recorded: RecordedEvent, request: ChannelTestRequested) -> list[Output]:
        """A channel test: its one channel, never held (see the module's docstring)."""
        event = recorded.event
        state = _Alert(
            Outcomes(self._ledger, recorded, self._names.tag_of(recorded.stream), event.event_id),
            test_notice(event.event_id, request),
            Budget(self._policy.wait_max_s),
            dead_letters=False,
        )
        recipient = await self._recipients.get(request.user_id)
        await self._channel(state, recipient, request.channel_id, quiet_end=None)
        if state.hold_until is not None:
            wait_s = max(1, round((state.hold_until - self._clock()).total_seconds()))
            reason = f"rate limited: try again in {wait_s}s (messages a minute to this channel)"
            kind = recipient.channels[request.channel_id].kind if recipient else UNKNOWN_KIND
            refused = self._delivery(state, request.channel_id, kind)
            failure = refused.failed(reason, attempts=1, at=self._clock())
            await state.outcomes.record(request.channel_id, failure)
        return await state.outcomes.finish(self._store, _gave_up)

    async def _channel(
        self,
        state: _Alert,
        recipient: Recipient | None,
        channel_id: str,
        quiet_end: datetime | None,
    ) -> None:
        if await state.outcomes.settled(channel_id) is not None:
            return
        channel = recipient.channels.get(channel_id) if recipient is not None else None
        if channel is None:
            removed = self._delivery(state, channel_id, UNKNOWN_KIND)
            failure = removed.failed("channel removed", attempts=1, at=self._clock())
            await state.outcomes.record(channel_id, failure)
            return
        if quiet_end is not None and channel.kind not in NEVER_HELD_KINDS:
            state.hold(quiet_end)
            return
        assert recipient is not None
        result = await self._deliverer.deliver(
            recipient.user_id,
            channel_id,
            channel,
            state.notice,
            delivery_id=delivery_id(state.notice.alert_event_id, channel_id),
            budget=state.budget,
        )
        await self._outcome(state, channel_id, channel, result)

    async def _outcome(
        self, state: _Alert, channel_id: str, channel: Channel, result: Result
    ) -> None:
        if isinstance(result, Deferred):
            state.hold(result.until)
            return
        if isinstance(result, Sent):
            log.info(
                "notification sent",
                channel_id=channel_id,
                channel_kind=channel.kind,
                attempts=result.attempts,
                response=result.receipt.response,
            )
        else:
            log.warning(
                "notification failed",
                channel_id=channel_id,
                channel_kind=channel.kind,
                attempts=result.attempts,
                error=result.reason,
                dead_lettered=result.gave_up and state.dead_letters,
            )
        delivery = self._delivery(state, channel_id, channel.kind)
        await state.outcomes.settle(
            channel_id, delivery, result, self._clock(), dead_letters=state.dead_letters
        )

    def _delivery(self, state: _Alert, channel_id: str, kind: str) -> Delivery:
        alert = state.notice.alert
        return Delivery(
            user_id=alert.user_id,
            channel_id=channel_id,
            channel_kind=kind,
            subject_event_id=state.notice.alert_event_id,
            title=state.notice.title,
            text=alert.message,
        )

    # -- background ----------------------------------------------------------------------

    async def run(self) -> None:
        """Release held alerts until cancelled, then close every client."""
        try:
            await self._holds.release_forever(self._clock, self._release_interval_s)
        finally:
            for sender in self._senders.values():
                await sender.aclose()


def _gave_up(channels: str) -> str:
    return (
        f"gave up on channel(s) {channels}: see their"
        " notification.failed events; retry this dead letter to try them again"
    )


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
