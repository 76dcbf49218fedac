"""A local Telegram Bot API that also serves ``getUpdates``: the bot's side of a chat.

`TelegramChats` extends the notify tests' `TelegramBotApi` (``getMe``, ``sendMessage``)
with what users write: a test `write`s a message, and the bot's long poll gets it as an
update. Like the real Bot API, ``getUpdates`` with an offset confirms (and forgets) every
update before it, returns at once when updates are waiting, and otherwise waits up to
its ``timeout`` for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.notify.servers import Request, TelegramBotApi, json_response

SLICE_S = 0.1


@dataclass
class TelegramChats(TelegramBotApi):
    updates: list[dict[str, Any]] = field(default_factory=list)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _written: asyncio.Condition = field(default_factory=asyncio.Condition)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/getUpdates", self._get_updates)
        app.router.add_post("/bot{token}/answerCallbackQuery", self._answer_callback)
        app.router.add_post("/bot{token}/{method}", self._call)
        return app

    async def write(
        self,
        chat_id: int,
        text: str,
        *,
        group: bool = False,
        from_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user writes `text` in a private chat with the bot (or in a group, from
        `from_id`, possibly replying to a message); returns the update."""
        self.chats.add(chat_id)
        sender = from_id if from_id is not None else chat_id
        chat: dict[str, Any] = (
            {"id": chat_id, "type": "supergroup", "title": "Traders"}
            if group
            else {"id": chat_id, "type": "private", "first_name": "Trader"}
        )
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": 1_700_000_000,
            "chat": chat,
            "from": {"id": sender, "is_bot": False, "first_name": "Trader"},
            "text": text,
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        update = {"update_id": next(self._update_ids), "message": message}
        async with self._written:
            self.updates.append(update)
            self._written.notify_all()
        return update

    async def press(self, chat_id: int, data: str) -> dict[str, Any]:
        """The user presses the button sending `data` under the bot's last message."""
        query = {
            "id": str(next(self._update_ids) * 1000),
            "from": {"id": chat_id, "is_bot": False, "first_name": "Trader"},
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private", "first_name": "Trader"},
                "text": "?",
            },
        }
        update = {"update_id": next(self._update_ids), "callback_query": query}
        async with self._written:
            self.updates.append(update)
            self._written.notify_all()
        return update

    def buttons(self, chat_id: int) -> list[Any]:
        """The inline keyboards of the messages the bot sent to a chat (None: none)."""
        return [
            _json(request.fields["reply_markup"]) if "reply_markup" in request.fields else None
            for request in self.requests
            if request.path.endswith("/sendMessage") and int(request.fields["chat_id"]) == chat_id
        ]

    async def _answer_callback(self, request: web.Request) -> web.Response:
        await self._record(request)
        return json_response({"ok": True, "result": True})

    def sent(self, chat_id: int | None = None) -> list[str]:
        """The texts of the messages the bot sent (to one chat)."""
        return [
            str(request.fields["text"])
            for request in self.requests
            if request.path.endswith("/sendMessage")
            and (chat_id is None or int(request.fields["chat_id"]) == chat_id)
        ]

    def polls(self) -> list[Request]:
        return [request for request in self.requests if request.path.endswith("/getUpdates")]

    async def _get_updates(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        if request.match_info["token"] != self.token:
            return json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        offset = _number(recorded.fields.get("offset"))
        timeout = _number(recorded.fields.get("timeout")) or 0
        async with self._written:
            if offset is not None:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            deadline = asyncio.get_running_loop().time() + timeout
            while not self.updates and not self._release.is_set():
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                with contextlib.suppress(TimeoutError):  # short waits: a shutdown ends them
                    await asyncio.wait_for(self._written.wait(), min(left, SLICE_S))
            return json_response({"ok": True, "result": list(self.updates)})


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _number(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(json.loads(value) if isinstance(value, str) else value)
