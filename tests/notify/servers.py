"""Local servers speaking the protocols notify talks: the Telegram Bot API, Discord's REST
API (bot and webhooks) and a webhook receiver that checks signatures.

Each runs on 127.0.0.1 on a free port, in the test's event loop (aiohttp's server),
records every request it gets, and answers like the real service. A test scripts
failures by queueing `Fault`s: the next matching requests get them, in order, then the
server answers normally again.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from notify.signing import SIGNATURE_HEADER, InvalidSignatureError, verify

FaultKind = Literal["rate_limited", "server_error", "hang", "gone"]


@dataclass(frozen=True)
class Fault:
    """One scripted failure: 429 (with `retry_after`), 5xx (`status`), no answer, or 410."""

    kind: FaultKind
    retry_after: float = 1.0
    status: int = 500


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    fields: dict[str, Any]
    """The form fields or JSON object sent."""


@dataclass
class FakeService:
    """What the three fakes share: a request log, queued faults, a way to stop hanging."""

    requests: list[Request] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    url: str = ""
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    def fail(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    async def _record(self, request: web.Request) -> Request:
        body = await request.read()
        if request.content_type == "application/json":
            fields: dict[str, Any] = json.loads(body) if body else {}
        else:
            fields = dict(await request.post())
        recorded = Request(request.method, request.path, dict(request.headers), body, fields)
        self.requests.append(recorded)
        return recorded

    async def _fault(self) -> Fault | None:
        """The next scripted fault, after hanging for a 'hang' one (until released)."""
        if not self.faults:
            return None
        fault = self.faults.popleft()
        if fault.kind == "hang":
            await self._release.wait()
        return fault

    def release_hangs(self) -> None:
        self._release.set()


def json_response(
    body: object, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with the bare ``application/json`` content type the real services send
    (discord.py only parses a body whose content type is exactly that)."""
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@asynccontextmanager
async def serving(
    app: web.Application,
    service: FakeService,
    path: str = "",
    *,
    tls: ssl.SSLContext | None = None,
    host: str = "127.0.0.1",
) -> AsyncIterator[None]:
    """Serve `app` on loopback; with `tls`, over https, its URL naming `host`."""
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = runner.addresses[0][1]
    service.url = f"{'https' if tls else 'http'}://{host}:{port}{path}"
    try:
        yield
    finally:
        service.release_hangs()
        await runner.cleanup()


# -- Telegram Bot API -----------------------------------------------------------------------


@dataclass
class TelegramBotApi(FakeService):
    """``/bot<token>/getMe`` and ``/bot<token>/sendMessage``, answering like the Bot API."""

    token: str = "123456:test-token"
    chats: set[int] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._call)
        return app

    async def _call(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        if request.match_info["token"] != self.token:
            return _telegram_error(401, "Unauthorized")
        method = request.match_info["method"]
        if method == "getMe":
            bot = {"id": 123456, "is_bot": True, "first_name": "Impressox", "username": "ix_bot"}
            return json_response({"ok": True, "result": bot})
        if method != "sendMessage":
            return _telegram_error(404, "Not Found: method not found")
        return await self._send_message(recorded)

    async def _send_message(self, recorded: Request) -> web.Response:
        fault = await self._fault()
        if fault is not None and fault.kind == "rate_limited":
            retry = int(fault.retry_after)
            return _telegram_error(
                429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
            )
        if fault is not None:
            return _telegram_error(fault.status, "Internal Server Error")
        chat_id = int(recorded.fields["chat_id"])
        if chat_id not in self.chats:
            return _telegram_error(400, "Bad Request: chat not found")
        message = {
            "message_id": next(self._ids),
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private"},
            "text": recorded.fields["text"],
        }
        return json_response({"ok": True, "result": message})


def _telegram_error(
    code: int, description: str, parameters: dict[str, Any] | None = None
) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json_response(body, status=code)


# -- Discord REST API ------------------------------------------------------------------------


@dataclass
class DiscordApi(FakeService):
    """The bot's ``/users/@me``, DM channel creation and channel messages, and webhook
    execution, under ``/api/v10``. Rate limits answer 429 with Discord's JSON body and
    headers (``Via`` included: discord.py treats a 429 without it as a Cloudflare ban)."""

    token: str = "discord-bot-token"
    channels: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    webhooks: dict[str, str] = field(default_factory=dict)
    """Webhook id -> token."""
    _ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(1_200_000_000_000_000_000)
    )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_post("/api/v10/users/@me/channels", self._open_dm)
        app.router.add_post("/api/v10/channels/{channel_id}/messages", self._message)
        app.router.add_post("/api/v10/webhooks/{webhook_id}/{token}", self._execute)
        return app

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _me(self, request: web.Request) -> web.Response:
        await self._record(request)
        if not self._authorised(request):
            return _discord_error(401, "401: Unauthorized", 0)
        return json_response({"id": "1100000000000000001", "username": "ix", "bot": True})

    async def _open_dm(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        if not self._authorised(request):
            return _discord_error(401, "401: Unauthorized", 0)
        user = str(recorded.fields["recipient_id"])
        if user not in self.users:
            return _discord_error(400, "Invalid Recipient(s)", 50033)
        channel = f"9{user[1:]}"
        self.channels.add(channel)
        return json_response({"id": channel, "type": 1, "recipients": [{"id": user}]})

    async def _message(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        if not self._authorised(request):
            return _discord_error(401, "401: Unauthorized", 0)
        failure = await self._failure()
        if failure is not None:
            return failure
        channel = request.match_info["channel_id"]
        if channel not in self.channels:
            return _discord_error(404, "Unknown Channel", 10003)
        return json_response(self._created(channel, recorded))

    async def _execute(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        failure = await self._failure()
        if failure is not None:
            return failure
        webhook = request.match_info["webhook_id"]
        if self.webhooks.get(webhook) != request.match_info["token"]:
            return _discord_error(404, "Unknown Webhook", 10015)
        if request.query.get("wait") != "true":
            return web.Response(status=204)
        return json_response(self._created(f"7{webhook[1:]}", recorded))

    async def _failure(self) -> web.Response | None:
        fault = await self._fault()
        if fault is None:
            return None
        if fault.kind == "rate_limited":
            body = {
                "message": "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": False,
            }
            headers = {
                "Retry-After": str(int(fault.retry_after) + 1),
                "X-RateLimit-Reset-After": str(fault.retry_after),
                "X-RateLimit-Scope": "user",
                "Via": "1.1 google",
            }
            return json_response(body, status=429, headers=headers)
        if fault.kind == "gone":
            return _discord_error(404, "Unknown Webhook", 10015)
        return web.Response(status=fault.status, text="upstream connect error")

    def _created(self, channel: str, recorded: Request) -> dict[str, Any]:
        return {
            "id": str(next(self._ids)),
            "channel_id": channel,
            "content": recorded.fields.get("content", ""),
            "embeds": recorded.fields.get("embeds", []),
        }


def _discord_error(status: int, message: str, code: int) -> web.Response:
    return json_response({"message": message, "code": code}, status=status)


# -- a user's webhook receiver ---------------------------------------------------------------


@dataclass
class WebhookReceiver(FakeService):
    """Accepts signed POSTs to ``/hook`` (204), refusing a bad signature (400).

    It verifies the way the README tells users to, so a test that delivers proves the
    documented check passes; `verified` counts the requests that passed it.
    """

    secret: str = ""
    verified: int = 0
    clock: Callable[[], float] = time.time
    """The receiver's time, to judge the signature's age by."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    async def _not_found(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=404, text="no such hook")

    async def _hook(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        fault = await self._fault()
        if fault is not None and fault.kind == "rate_limited":
            return web.Response(status=429, headers={"Retry-After": str(int(fault.retry_after))})
        if fault is not None and fault.kind == "gone":
            return web.Response(status=410, text="this hook was removed")
        if fault is not None:
            return web.Response(status=fault.status, text="receiver down")
        try:
            verify(
                self.secret,
                request.headers.get(SIGNATURE_HEADER, ""),
                recorded.body,
                now=self.clock(),
            )
        except InvalidSignatureError as error:
            return web.Response(status=400, text=str(error))
        self.verified += 1
        return web.Response(status=204)


# -- an internal service a webhook must never reach ------------------------------------------


SECRET_BODY = "internal-only: db password hunter2"
"""What the internal service answers: a user must never read it in an outcome."""


@dataclass
class InternalService:
    """A TCP service on loopback standing for the embedded Redis or an internal admin API.

    It counts the connections it accepts. Speaking ``http``, it answers 500 with
    `SECRET_BODY`; otherwise it answers like Redis does to an HTTP request (an error line,
    then it hangs up).
    """

    speaks: Literal["http", "redis"] = "http"
    connections: int = 0
    port: int = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await reader.read(1024)
            if self.speaks == "http":
                body = SECRET_BODY.encode()
                writer.write(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
                )
            else:
                writer.write(b"-ERR unknown command 'POST', with args beginning with: \r\n")
            await writer.drain()
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[InternalService]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            await server.wait_closed()
