"""Delivering the agent's replies to the Telegram chat or Discord channel they answer.

For each ``conversation.replied`` of the conversations application's log:

1. Find the conversation's user, platform and thread (loaded once per conversation and
   process: they never change). A web reply is left alone: the API's WebSocket pushes
   it from the messages read model.
2. Cut the reply into messages (`notify.reply_parts`): Telegram chat id =
   thread id, Discord channel id = thread id (a DM is a channel too). On Discord the
   first part is a reply to the message it answers (``dc:<channel>:<message>``).
3. Send the parts in order, each exactly like an alert to a channel (the same
   `Outcomes` bookkeeping): already done per the ledger (field ``part-<n>``, keyed by
   the replied event's id) or committed? Skip it. Otherwise send with the notifier's
   retries and backoff (`send_with_retries`).
   Each part's outcome is a ``notification.sent`` / ``notification.failed`` whose id
   is the part's idempotency key, so a redelivered reply never sends a part twice.
4. A part refused for good ends the reply there (the rest would read out of context); a
   part given up on (retries or wait budget spent, no token) is recorded per try, the
   outcomes are appended at once and `DeliveryGaveUpError` makes the runtime dead-letter
   the reply. Retrying that dead letter resumes at the part given up on.

Outcomes are the handler's outputs, committed with the acknowledgement in the log's own
hash tag (``<prefix>:{app.conversations}:notifications``): the runtime writes outputs
in the input's partition, and all replies come from that one log.

Replies are not rate limited per user as alerts are: each answers a message the user
sent. The platforms' own limits (429 with a retry-after) are honoured by the retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.persistence import OperationalError
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aggregates.channels import DiscordChannel, Platform
from aggregates.conversation import AgentReply, Conversation, ToolCall, ToolResult
from aggregates.services.conversations import Conversations
from events.envelope import RecordedEvent
from events.errors import DependencyUnavailableError
from events.store import EventStore
from handlers.declaration import Output
from notify.clock import Clock, Sleep
from notify.config import RepliesContext
from notify.delivery import Budget, Sent, send_with_retries
from notify.discord_bot import DiscordBotSender
from notify.keys import NotifyKeys
from notify.ledger import Ledger
from notify.outcomes import Delivery, Outcomes
from notify.reply_parts import (
    discord_bodies,
    discord_message_of,
    escape_telegram,
    telegram_parts,
)
from notify.retry import Jitter, RetryPolicy
from notify.senders import Receipt
from notify.service import QUIETED_LOGGERS
from notify.telegram_bot import TelegramSender

log = structlog.get_logger(__name__)

CHAT_PLATFORMS: frozenset[Platform] = frozenset({"telegram", "discord"})
TEXT_LIMIT = 4000
"""What an outcome event keeps of a part's text (its field's limit)."""
THREADS_CACHED = 10_000

Send = Callable[[], Awaitable[Receipt]]


@dataclass(frozen=True)
class Thread:
    """Where a conversation takes place: fixed for the life of the conversation."""

    user_id: UUID
    platform: Platform
    thread_id: str

    @property
    def channel_id(self) -> str:
        return f"{self.platform}:{self.thread_id}"[:64]


@dataclass(frozen=True)
class Part:
    number: int
    of: int
    text: str
    """The part as the user reads it (plain), for the outcome event."""
    send: Send | None
    """None: the thread cannot be addressed on its platform (see `refusal`)."""
    refusal: str = ""

    @property
    def ledger_field(self) -> str:
        return f"part-{self.number}"

    @property
    def title(self) -> str:
        return f"reply {self.number}/{self.of}"


@dataclass
class _Reply:
    outcomes: Outcomes
    """In the log's hash tag: the ledger and the outcomes live beside it."""
    thread: Thread
    budget: Budget


class ReplyDelivery:
    def __init__(
        self,
        store: EventStore,
        conversations: Conversations,
        telegram: TelegramSender,
        discord: DiscordBotSender,
        policy: RetryPolicy,
        *,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self._store = store
        self._conversations = conversations
        self._telegram = telegram
        self._discord = discord
        self._policy = policy
        self._ledger = Ledger(store.redis, NotifyKeys(store.names), store.names)
        self._clock = clock
        self._sleep = sleep
        self._threads: dict[UUID, Thread] = {}

    @classmethod
    def from_context(
        cls, context: RepliesContext, *, clock: Clock, sleep: Sleep, jitter: Jitter | None
    ) -> ReplyDelivery:
        for name in QUIETED_LOGGERS:
            logger = logging.getLogger(name)
            logger.setLevel(max(logging.WARNING, logger.level))
        config = context.notify
        telegram_token, discord_token = config.telegram_token, config.discord_token
        return cls(
            context.store,
            context.conversations,
            TelegramSender(
                telegram_token.get_secret_value() if telegram_token else None,
                config.telegram_api_url,
                config.timeout_s,
            ),
            DiscordBotSender(
                discord_token.get_secret_value() if discord_token else None,
                config.discord_api_url,
                config.timeout_s,
            ),
            replace(config.retry, jitter=jitter),
            clock=clock,
            sleep=sleep,
        )

    async def handle(self, recorded: RecordedEvent) -> list[Output]:
        reply: Any = getattr(recorded.event.payload, "reply", None)
        if not isinstance(reply, AgentReply):
            raise TypeError(f"agent-replies handles replies, not {recorded.event.type}")
        thread = await self._thread(UUID(recorded.event.key))
        if thread.platform not in CHAT_PLATFORMS:
            return []  # the web: the WebSocket has it already
        tag = self._store.names.tag_of(recorded.stream)
        outcomes = Outcomes(self._ledger, recorded, tag, recorded.event.event_id)
        state = _Reply(outcomes, thread, Budget(self._policy.wait_max_s))
        confirming = thread.platform == "telegram" and await self._asks(recorded, reply)
        parts = self._parts(thread, reply, confirming)
        if not parts:
            log.info("empty reply; nothing to send", reply_id=reply.reply_id)
        for part in parts:
            if not await self._part(state, part):
                break
        return await outcomes.finish(
            self._store,
            lambda parts: (
                f"gave up on {parts} of reply {reply.reply_id} to"
                f" {thread.channel_id}: see their notification.failed events; retry this dead"
                " letter to send the rest"
            ),
        )

    def _parts(self, thread: Thread, reply: AgentReply, confirming: bool = False) -> list[Part]:
        text = reply.text
        if thread.platform == "telegram":
            try:
                chat_id = int(thread.thread_id.split("/", 1)[0])  # "<chat>/<n>" after /new
            except ValueError:
                refusal = f"telegram: thread {thread.thread_id!r} is not a chat id"
                return [Part(1, 1, text, None, refusal)]
            plain = telegram_parts(text)
            send = self._telegram.send_html
            return [
                Part(
                    number,
                    len(plain),
                    part,
                    partial(
                        send,
                        chat_id,
                        escape_telegram(part),
                        confirm=confirming and number == len(plain),
                    ),
                )
                for number, part in enumerate(plain, 1)
            ]
        try:
            channel = DiscordChannel(target="channel", id=thread.thread_id)
        except ValidationError:
            refusal = f"discord: thread {thread.thread_id!r} is not a channel id"
            return [Part(1, 1, text, None, refusal)]
        bodies = discord_bodies(text, answering=discord_message_of(reply.in_reply_to))
        return [
            Part(number, len(bodies), body["content"], partial(self._discord.post, channel, body))
            for number, body in enumerate(bodies, 1)
        ]

    async def _part(self, state: _Reply, part: Part) -> bool:
        """Deliver one part unless done; whether the next part may follow it."""
        part_field = part.ledger_field
        settled = await state.outcomes.settled(part_field)
        if settled is not None:
            return settled
        if part.send is None:
            refused = self._delivery(state, part).failed(part.refusal, attempts=1, at=self._clock())
            await state.outcomes.record(part_field, refused)
            return False
        thread = state.thread
        result = await send_with_retries(
            part.send,
            self._policy,
            self._sleep,
            state.budget,
            channel_id=thread.channel_id,
            channel_kind=thread.platform,
        )
        if isinstance(result, Sent):
            log.info("reply sent", channel_id=thread.channel_id, part=part.ledger_field)
        else:
            log.warning(
                "reply not delivered",
                channel_id=thread.channel_id,
                part=part.ledger_field,
                attempts=result.attempts,
                error=result.reason,
                dead_lettered=result.gave_up,
            )
        await state.outcomes.settle(
            part.ledger_field, self._delivery(state, part), result, self._clock()
        )
        return isinstance(result, Sent)

    def _delivery(self, state: _Reply, part: Part) -> Delivery:
        return Delivery(
            user_id=state.thread.user_id,
            channel_id=state.thread.channel_id,
            channel_kind=state.thread.platform,
            subject_event_id=state.outcomes.subject_id,
            title=part.title,
            text=part.text[:TEXT_LIMIT],
        )

    async def _asks(self, recorded: RecordedEvent, reply: AgentReply) -> bool:
        """Whether the reply asks the user to confirm an action: its turn holds a tool
        call without a result (`agent.graph`: a call that needs a yes waits for it)."""
        conversation_id = UUID(recorded.event.key)

        def pending() -> bool:
            conversation: Conversation = self._conversations.load(conversation_id)
            answered = {t.call_id for t in conversation.turns if isinstance(t, ToolResult)}
            return any(
                isinstance(t, ToolCall)
                and t.in_reply_to == reply.in_reply_to
                and t.call_id not in answered
                for t in conversation.turns
            )

        try:
            return await asyncio.to_thread(pending)
        except (OperationalError, RedisConnectionError, RedisTimeoutError) as error:
            raise DependencyUnavailableError(
                f"cannot load conversation {conversation_id}: {error}"
            ) from None

    async def _thread(self, conversation_id: UUID) -> Thread:
        known = self._threads.get(conversation_id)
        if known is None:
            known = await asyncio.to_thread(self._load, conversation_id)
            if len(self._threads) >= THREADS_CACHED:
                del self._threads[next(iter(self._threads))]
            self._threads[conversation_id] = known
        return known

    def _load(self, conversation_id: UUID) -> Thread:
        try:
            conversation: Conversation = self._conversations.load(conversation_id)
        except (OperationalError, RedisConnectionError, RedisTimeoutError) as error:
            raise DependencyUnavailableError(
                f"cannot load conversation {conversation_id}: {error}"
            ) from None
        return Thread(conversation.user_id, conversation.platform, conversation.thread_id)

    async def aclose(self) -> None:
        await self._telegram.aclose()
        await self._discord.aclose()
