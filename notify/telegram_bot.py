"""Telegram channels: the Bot API's ``sendMessage`` through python-telegram-bot.

The bot is built from ``IMPRESSOX_TELEGRAM_BOT_TOKEN`` and ``IMPRESSOX_TELEGRAM_API_URL``
(python-telegram-bot's ``base_url``: the token is appended, or put where ``{token}``
stands), and initialised on first use (``getMe``, which also checks the token).
Messages use HTML parse mode (see `notify.rendering.telegram_html`).

How the Bot API's answers are treated:

- ``retry_after`` (429, flood control): transient, waiting at least that long.
- timeouts, connection errors, 5xx: transient.
- 400 (chat not found, message malformed), 403 (bot blocked or kicked), a group that
  became a supergroup: permanent; the owner must update the channel.
- 401/404 on the bot itself (token revoked): the channel kind is unavailable.

python-telegram-bot's own messages for a rejected token contain the token, so they are
never passed on (and its loggers are kept quiet: see `notify.service`).

We opt in to python-telegram-bot's time periods as `timedelta` (``PTB_TIMEDELTA``, the
behaviour of its next major version), which otherwise warns on every flood-control
error; the code reads either form.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from uuid import UUID

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from aggregates.channels import TelegramChannel
from notify.errors import (
    ChannelUnavailableError,
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from notify.rendering import Notice, telegram_html
from notify.senders import Receipt

CONFIRM_BUTTONS = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Yes", callback_data="yes"),
            InlineKeyboardButton("No", callback_data="no"),
        ]
    ]
)
"""Under a reply that asks for a confirmation: a press is recorded as "yes" or "no"
(`bots.telegram`), which the agent reads like a typed answer."""


class TelegramSender:
    def __init__(self, token: str | None, base_url: str, timeout_s: float) -> None:
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        self._bot = (
            Bot(
                token,
                base_url=base_url,
                request=HTTPXRequest(
                    connect_timeout=timeout_s,
                    read_timeout=timeout_s,
                    write_timeout=timeout_s,
                    pool_timeout=timeout_s,
                ),
            )
            if token
            else None
        )
        self._ready = asyncio.Lock()

    async def send(self, channel: TelegramChannel, notice: Notice, delivery_id: UUID) -> Receipt:
        return await self.send_html(channel.chat_id, telegram_html(notice))

    async def send_html(self, chat_id: int, text: str, *, confirm: bool = False) -> Receipt:
        """Send one message in HTML parse mode (escaped by the caller) to a chat; with
        `confirm`, under Yes and No buttons (the bot records a press as that answer)."""
        bot = await self._initialised()
        try:
            message = await bot.send_message(
                chat_id=chat_id,
                text=text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_markup=CONFIRM_BUTTONS if confirm else None,
            )
        except TelegramError as error:
            raise _delivery_error(error) from None
        return Receipt(f"telegram message_id={message.message_id}", 200, str(message.message_id))

    async def _initialised(self) -> Bot:
        if self._bot is None:
            raise ChannelUnavailableError(
                "telegram: no bot token configured (IMPRESSOX_TELEGRAM_BOT_TOKEN)"
            )
        async with self._ready:
            try:
                await self._bot.initialize()
            except TelegramError as error:
                raise _delivery_error(error) from None
        return self._bot

    async def aclose(self) -> None:
        if self._bot is not None:
            await self._bot.shutdown()


def _delivery_error(error: TelegramError) -> DeliveryError:
    """Our error for python-telegram-bot's. Order matters: BadRequest and TimedOut are
    NetworkErrors too."""
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return TransientDeliveryError(
            f"telegram: flood control, retry after {seconds:g}s",
            status_code=429,
            retry_after_s=seconds,
        )
    if isinstance(error, InvalidToken):  # its message holds the token: never pass it on
        return ChannelUnavailableError("telegram: the bot token was rejected (revoked?)")
    if isinstance(error, TimedOut):
        return TransientDeliveryError("telegram: no answer within the timeout")
    status = _refusal_status(error)
    if status is None and isinstance(error, NetworkError):
        return TransientDeliveryError(f"telegram: {error.message}")
    return PermanentDeliveryError(_describe(error), status_code=status)


def _refusal_status(error: TelegramError) -> int | None:
    """The HTTP status of a refusal (the library keeps only the description)."""
    if isinstance(error, ChatMigrated | BadRequest):
        return 400
    if isinstance(error, Forbidden):
        return 403
    return None


def _describe(error: TelegramError) -> str:
    if isinstance(error, ChatMigrated):
        return f"telegram: the group became supergroup {error.new_chat_id}; update the channel"
    return f"telegram: {error.message}"
