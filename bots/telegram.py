"""The Telegram bot: users' messages to the agent, recorded as conversation turns.

``impressox bots telegram`` long-polls the Bot API's ``getUpdates`` (python-telegram-bot)
and, for each update, in order:

1. Not for the bot (a group message that neither mentions it, replies to it, nor is a
   command for it): ignored. A command is answered or turned into the chat message it
   stands for (`bots.telegram_commands`); a Yes/No button press under a confirmation
   is recorded as that answer.
2. A chat linked to one user (a Telegram channel of theirs has this chat id, see
   `bots.directory`): the text is recorded through the Conversations application,
   platform ``telegram``, thread = chat id (``<chat>/<n>`` after the n-th ``/new``),
   message id ``tg:<chat id>:<message id>``; a chat's turns of one poll are recorded
   together, in order, in one commit (`bots.turns`). The agent answers from the log;
   notify sends the reply (`notify.replies`). A chat nobody linked: one answer saying how to
   link it, at most once per `HINT_EVERY_S` per chat; nothing is recorded.
3. Then, once every update of the poll is handled (each chat's in order, the chats
   side by side), the next offset (last update id + 1) is written to Redis
   (`bots.keys`).

So a restart asks for the first update not yet handled: nothing is skipped. An update
handled but not yet marked (a crash in between) is handled again, and recording it again
changes nothing, since the message id is the same. When Redis or MongoDB is down, the
update (and the offset's read or write) is retried until they are back, with one log
line when the outage starts and one when it ends; an update that cannot be recorded for
good (a refused message) is logged and passed over, so it cannot hold up the chats
behind it.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import structlog
from telegram import Bot, CallbackQuery, Message, Update
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from aggregates.channels import Platform, TelegramChannel
from aggregates.services.conversations import Conversations
from bots.accounts import ChatIdentity
from bots.commands import LINK_USAGE, MAX_TEXT, too_long
from bots.directory import ChatDirectory, Owner
from bots.health import BotHealth
from bots.keys import BotKeys
from bots.telegram_commands import ACCOUNT_COMMANDS, TelegramCommands, parse
from bots.turns import Turn, TurnWriter
from events.backoff import Backoff
from events.errors import ConfigurationError, DependencyUnavailableError
from events.names import StreamNames
from events.outages import Outage, outage, redis_unavailable, through_redis_outage
from events.redis_client import RedisClient
from events.stopping import sleep_unless_stopped

log = structlog.get_logger(__name__)

T = TypeVar("T")

PLATFORM: Platform = "telegram"
POLL_TIMEOUT_S = 30
"""How long one ``getUpdates`` waits for a message (long polling)."""
ANSWERS = {"yes": "Yes", "no": "No"}
"""What the confirmation buttons send, and what the press is acknowledged with."""
HINT_EVERY_S = 3600
"""An unknown chat is told how to link itself at most this often."""
RETRY_BACKOFF = Backoff(1.0, 30.0)
"""Between tries of a poll or an update while the platform or a server is away."""
QUIETED_LOGGERS = ("httpx", "telegram")
"""They log request URLs, which hold the bot token: kept at WARNING whatever the level."""


@dataclass(frozen=True)
class TelegramBotConfig:
    poll_timeout_s: int = POLL_TIMEOUT_S
    hint_every_s: int = HINT_EVERY_S
    api_url: str | None = None
    """Where users reach the API, for the linking hint (None: a placeholder)."""


def telegram_client(token: str, base_url: str, timeout_s: float) -> Bot:
    """A Bot API client; long polls add their own wait to `timeout_s`."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")  # as in notify.telegram_bot
    request = HTTPXRequest(
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        write_timeout=timeout_s,
        pool_timeout=timeout_s,
    )
    return Bot(token, base_url=base_url, request=request, get_updates_request=request)


def message_id(chat_id: int, telegram_message_id: int) -> str:
    """A Telegram message's id in its conversation: the same on every delivery."""
    return f"tg:{chat_id}:{telegram_message_id}"


@dataclass
class _ChatLookups:
    """What one chat's updates of a poll looked up, kept for the next ones: its owners
    (until an account command changes them) and its thread (until ``/new``)."""

    owners: list[Owner] | None = None
    thread: str | None = None


class _StoppedError(Exception):
    """Told to stop before an update was handled."""


class TelegramBot:
    def __init__(
        self,
        bot: Bot,
        redis: RedisClient,
        names: StreamNames,
        directory: ChatDirectory,
        conversations: Conversations,
        *,
        commands: TelegramCommands,
        health: BotHealth,
        config: TelegramBotConfig | None = None,
    ) -> None:
        self._bot = bot
        self._redis = redis
        self._names = names
        self._directory = directory
        self._turns = TurnWriter(conversations, PLATFORM, health)
        self._commands = commands
        self._health = health
        self._config = config or TelegramBotConfig()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll and handle updates until `stop` is set."""
        try:
            await self._bot.initialize()
        except InvalidToken:  # its message holds the token: never pass it on
            raise ConfigurationError("telegram: the bot token was rejected (revoked?)") from None
        keys = BotKeys(self._names, PLATFORM, self._bot.id)
        log.info("telegram bot polling", bot=self._bot.username)
        try:
            await self._poll_until(stop, keys)
        except Exception as error:
            if not (stop.is_set() and redis_unavailable(error)):
                raise
            # The update in hand was handled but its offset not stored: the next run
            # handles it again, which records nothing new (the message id is the same).
            log.warning("stopped while Redis is away", error=str(error))

    async def _poll_until(self, stop: asyncio.Event, keys: BotKeys) -> None:
        failures = 0
        while not stop.is_set():
            offset = await through_redis_outage(partial(self._offset, keys), stop)
            try:
                updates = await _unless_stopped(self._poll(offset), stop)
            except TelegramError as error:
                failures += 1
                log.warning("getUpdates failed; retrying", error=str(error), failures=failures)
                await sleep_unless_stopped(stop, RETRY_BACKOFF.delay_s(failures))
                continue
            failures = 0
            if not updates:
                continue
            if not await self._handle_batch(updates, stop):
                return
            await through_redis_outage(
                partial(self._redis.set, keys.offset, updates[-1].update_id + 1), stop
            )

    async def _handle_batch(self, updates: tuple[Update, ...], stop: asyncio.Event) -> bool:
        """The updates of one poll: each chat's in order, the chats side by side (one
        chat's turns keep their order; a busy chat does not hold up the others).
        False if stopped before all were handled: the offset is then left where it was,
        and the next run handles the batch again (recording nothing twice)."""
        chats: dict[int, list[Update]] = {}
        for update in updates:
            chat = update.effective_chat
            chats.setdefault(chat.id if chat is not None else 0, []).append(update)
        outcomes = await asyncio.gather(
            *(self._handle_chat(chat_updates, stop) for chat_updates in chats.values()),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return all(outcomes)

    async def _handle_chat(self, updates: list[Update], stop: asyncio.Event) -> bool:
        """One chat's updates of a poll, in order: each one's answer or turn decided (with
        its own retries: an answer is never sent twice), then the turns recorded
        together (`bots.turns`: one commit for a chat's burst). False if stopped first."""
        chat = _ChatLookups()
        decided: list[Turn] = []
        news: list[bool] = []
        try:
            for update in updates:
                turn = await self._until_done(partial(self.decide, update, chat), update, stop)
                if turn is not None:
                    decided.append(turn)
            if decided:
                record = partial(self._turns.record, decided)
                news = await self._until_done(record, updates[0], stop)
        except _StoppedError:
            return False
        for turn, new in zip(decided, news, strict=True):
            if new:
                log.info("message recorded", message_id=turn.message_id, user_id=str(turn.user_id))
        return True

    async def aclose(self) -> None:
        await self._bot.shutdown()

    async def _offset(self, keys: BotKeys) -> int | None:
        stored = await self._redis.get(keys.offset)
        return int(stored) if stored is not None else None

    async def _poll(self, offset: int | None) -> tuple[Update, ...]:
        return await self._bot.get_updates(
            offset=offset,
            timeout=self._config.poll_timeout_s,
            allowed_updates=["message", "callback_query"],
        )

    async def _until_done(
        self, work: Callable[[], Awaitable[T]], update: Update, stop: asyncio.Event
    ) -> T:
        """`work()`, retried while Redis or MongoDB is away; `_StoppedError` if stopped first."""
        failures = 0
        waiting: Outage | None = None
        while not stop.is_set():
            try:
                done = await work()
            except Exception as error:
                if redis_unavailable(error):
                    waiting = outage("Redis")
                elif isinstance(error, DependencyUnavailableError):
                    waiting = outage(error.dependency or "the Telegram bot's read models")
                else:
                    raise
                failures += 1
                waiting.failed(error, update_id=update.update_id)
                await sleep_unless_stopped(stop, RETRY_BACKOFF.delay_s(failures))
                continue
            if waiting is not None:
                waiting.succeeded()
            return done
        raise _StoppedError

    async def decide(self, update: Update, chat: _ChatLookups) -> Turn | None:
        """One update: the turn to record, or None once a command or an unknown chat
        was answered (or the update was not for us). `chat` keeps what this chat's
        earlier updates of the poll looked up."""
        if update.callback_query is not None:
            return await self._pressed(update.callback_query, chat)
        message = self._for_us(update)
        if message is None or message.text is None:
            return None
        chat_id = message.chat.id
        bound = log.bind(chat_id=chat_id, update_id=update.update_id)
        self._health.received()
        text = self._without_mention(message.text).strip()
        command = parse(text, self._bot.username)
        owners = await self._owners(chat_id, chat)
        if command is not None and command[0] in ACCOUNT_COMMANDS:
            identity = _chat_identity(message)
            private = message.chat.type == "private"
            said = await self._commands.account(*command, identity, owners, private)
            chat.owners = None  # linked or created: look the owner up again
            await self._say(message, said)
            return None
        if len(owners) != 1:
            if await self._first_hint(chat_id):
                await self._say(message, self._link_hint(chat_id, owners))
            bound.info("message from a chat no single user linked", owners=len(owners))
            return None
        return await self._from_owner(message, text, command, owners[0], chat)

    def _for_us(self, update: Update) -> Message | None:
        """The update's message if it is a text for us (silence otherwise, as documented:
        a bot's message, a group message for someone else)."""
        message = update.message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return None
        if message.text is None:
            log.info("not a text message; ignored", update_id=update.update_id)
            return None
        return message if self._addressed(message, message.text) else None

    async def _from_owner(
        self,
        message: Message,
        text: str,
        command: tuple[str, str] | None,
        owner: Owner,
        chat: _ChatLookups,
    ) -> Turn | None:
        """A message in a linked chat: a command's answer, or the turn to record."""
        chat_id = message.chat.id
        if command is not None and command[0] == "new":
            await self._redis.incr(self._keys().thread(chat_id))
            chat.thread = None
            await self._say(message, "New conversation: I start from a clean slate.")
            return None
        if command is not None:
            said = await self._commands.linked(*command, owner, chat_id)
            if said.answer is not None:
                await self._say(message, said.answer)
                return None
            text = said.text or ""
        if len(text) > MAX_TEXT:
            await self._say(message, too_long(len(text)))
            return None
        if not text:
            return None
        turn_id = message_id(chat_id, message.message_id)
        thread = await self._thread(chat_id, chat)
        return Turn(owner.user_id, thread, turn_id, text, message.date or datetime.now(UTC))

    async def _owners(self, chat_id: int, chat: _ChatLookups) -> list[Owner]:
        if chat.owners is None:
            chat.owners = await self._directory.owners(PLATFORM, chat_id)
        return chat.owners

    def _addressed(self, message: Message, text: str) -> bool:
        """A private chat, or a group message that mentions us, replies to us, or is a
        command (for us: ``/name@other_bot`` is not)."""
        if message.chat.type == "private":
            return True
        username = self._bot.username
        replied = message.reply_to_message
        if (
            replied is not None
            and replied.from_user is not None
            and replied.from_user.id == self._bot.id
        ):
            return True
        if text.startswith("/"):
            return parse(text, username) is not None
        return bool(username) and f"@{username}".lower() in text.lower()

    def _without_mention(self, text: str) -> str:
        username = self._bot.username
        return re.sub(rf"@{re.escape(username)}\b", "", text, flags=re.I) if username else text

    async def _thread(self, chat_id: int, chat: _ChatLookups) -> str:
        """The chat's current conversation thread: the chat id, then ``<chat>/<n>`` after
        the n-th ``/new``."""
        if chat.thread is None:
            number = await self._redis.get(self._keys().thread(chat_id))
            chat.thread = f"{chat_id}/{int(number)}" if number else str(chat_id)
        return chat.thread

    def _keys(self) -> BotKeys:
        return BotKeys(self._names, PLATFORM, self._bot.id)

    async def _pressed(self, query: CallbackQuery, chat: _ChatLookups) -> Turn | None:
        """A Yes or No button under a confirmation (`notify.telegram_bot`): the turn of
        that answer, keyed by the press (a press handled twice is recorded once)."""
        message = query.message
        if query.data not in ANSWERS or message is None:
            return None
        self._health.received()
        chat_id = message.chat.id
        owners = await self._owners(chat_id, chat)
        turn = None
        if len(owners) == 1:
            thread = await self._thread(chat_id, chat)
            at = datetime.now(UTC)
            turn = Turn(owners[0].user_id, thread, f"tg:{chat_id}:press-{query.id}", query.data, at)
        try:
            await self._bot.answer_callback_query(query.id, text=ANSWERS[query.data])
        except TelegramError as error:
            log.warning("cannot answer a button press", error=str(error))
        return turn

    async def _first_hint(self, chat_id: int) -> bool:
        """Whether this chat has not been told how to link lately (and now has been)."""
        key = self._keys().hinted(chat_id)
        return bool(await self._redis.set(key, 1, nx=True, ex=self._config.hint_every_s))

    async def _say(self, message: Message, text: str) -> None:
        """Answer in the chat; a failure is logged, never retried (the user can write again)."""
        try:
            await self._bot.send_message(chat_id=message.chat.id, text=text)
            self._health.messages_out += 1
        except TelegramError as error:
            self._health.errors += 1
            log.warning("cannot answer in the chat", chat_id=message.chat.id, error=str(error))

    def _link_hint(self, chat_id: int, owners: list[Owner]) -> str:
        if owners:
            return (
                "This chat is linked to more than one Impressox account, so I cannot tell"
                " whose conversation it is. Talk to me from a chat only your account links"
                f" (this chat's id is {chat_id})."
            )
        api = self._config.api_url or "<your Impressox API>"
        channel = f'{{"kind": "telegram", "chat_id": {chat_id}}}'
        body = f'{{"channel_id": "telegram", "channel": {channel}}}'
        return (
            "Hi! This chat is not linked to an Impressox account yet. Add it as a Telegram"
            " channel of yours with your API key, then write again:\n\n"
            f"curl -X POST {api}/v1/channels -H 'Authorization: Bearer <your key>'"
            f" -H 'Content-Type: application/json' -d '{body}'\n\n"
            f"This chat's id is {chat_id}.\n\n{LINK_USAGE}"
        )


def _chat_identity(message: Message) -> ChatIdentity:
    assert message.from_user is not None
    return ChatIdentity(
        PLATFORM, str(message.from_user.id), TelegramChannel(chat_id=message.chat.id)
    )


async def _unless_stopped(work: Coroutine[Any, Any, T], stop: asyncio.Event) -> T | None:
    """The result of `work`, or None when `stop` is set first (`work` is then cancelled):
    a long poll must not hold up a shutdown for its whole wait."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return None
