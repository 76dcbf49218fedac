"""A local Discord: the gateway (WebSocket) and the REST endpoints our bot uses.

`DiscordServer` extends the notify tests' `DiscordApi` (``/users/@me``, DM channels,
channel messages with scripted 429s and 5xx) with what a bot that listens needs:

- REST: ``GET /oauth2/applications/@me`` (discord.py's login asks for it), ``GET
  /gateway/bot``, ``PUT /applications/{id}/commands`` (slash commands registered) and
  ``POST /interactions/{id}/{token}/callback`` (a command answered).
- The gateway at ``/gateway``, JSON text frames (no compression): HELLO, then the
  client's heartbeats are ACKed; IDENTIFY with the right token gets READY (a session
  and its ``resume_gateway_url``), a wrong token closes with 4004; RESUME replays the
  session's events after the sequence the client names, then RESUMED; an unknown
  session gets INVALID_SESSION. Events (MESSAGE_CREATE, INTERACTION_CREATE) are kept
  per session, so a client that reconnects misses none, as with Discord.

A test `dm`s or posts in a guild as a user, sends a slash command (`command`), or
`disconnect`s the bot (close code 4000: discord.py resumes).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.notify.servers import DiscordApi, Request, json_response

BOT_ID = "1100000000000000001"
APPLICATION_ID = "1100000000000000002"
HEARTBEAT_MS = 45_000
CONNECT_WAIT_S = 10
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_RESUME = 0, 1, 2, 6
OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 9, 10, 11


@dataclass
class Session:
    session_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    socket: web.WebSocketResponse | None = None

    @property
    def sequence(self) -> int:
        return len(self.events)


@dataclass
class DiscordServer(DiscordApi):
    sessions: dict[str, Session] = field(default_factory=dict)
    identifies: int = 0
    token_accepted_by_gateway: bool = True
    """False: REST accepts the token, the gateway closes with 4004 (a token reset
    between the two)."""
    resumes: int = 0
    heartbeats: int = 0
    commands: list[dict[str, Any]] = field(default_factory=list)
    """The slash commands the bot registered, as it sent them."""
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    """Interaction callbacks: ``{"interaction_id": ..., "body": ...}``."""
    _snowflakes: itertools.count[int] = field(
        default_factory=lambda: itertools.count(1_300_000_000_000_000_000)
    )
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/api/v10/gateway/bot", self._gateway_bot)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        app.router.add_put("/api/v10/applications/{app}/commands", self._register)
        app.router.add_post("/api/v10/interactions/{id}/{token}/callback", self._callback)
        return app

    @property
    def gateway_url(self) -> str:
        return f"{self.url.replace('http://', 'ws://')}/gateway"

    def snowflake(self) -> str:
        return str(next(self._snowflakes))

    async def connected(self, within: float = CONNECT_WAIT_S) -> None:
        """Wait until a bot is connected (READY or RESUMED sent)."""
        await asyncio.wait_for(self._ready.wait(), within)

    # -- what users do ----------------------------------------------------------------------

    async def dm(self, user_id: str, text: str, *, message_id: str | None = None) -> dict[str, Any]:
        """`user_id` writes `text` to the bot in their DM channel; returns the message."""
        channel = dm_channel(user_id)
        self.channels.add(channel)
        return await self.post(channel, user_id, text, message_id=message_id)

    async def post(
        self,
        channel_id: str,
        user_id: str,
        text: str,
        *,
        guild_id: str | None = None,
        mentions: tuple[str, ...] = (),
        reply_to: dict[str, Any] | None = None,
        message_id: str | None = None,
        author_is_bot: bool = False,
    ) -> dict[str, Any]:
        """A message in a channel (a guild's when `guild_id` is given)."""
        self.channels.add(channel_id)
        message: dict[str, Any] = {
            "id": message_id or self.snowflake(),
            "channel_id": channel_id,
            "author": _user(user_id, bot=author_is_bot),
            "content": text,
            "timestamp": "2026-12-06T12:00:00.000000+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [_user(m, bot=m == BOT_ID) for m in mentions],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0 if reply_to is None else 19,
        }
        if guild_id is not None:
            message["guild_id"] = guild_id
        if reply_to is not None:
            message["message_reference"] = {
                "message_id": reply_to["id"],
                "channel_id": channel_id,
            }
            message["referenced_message"] = reply_to
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    async def command(
        self, user_id: str, name: str, options: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """`user_id` runs the slash command `name` in their DM with the bot."""
        channel = dm_channel(user_id)
        self.channels.add(channel)
        interaction = {
            "id": self.snowflake(),
            "application_id": APPLICATION_ID,
            "type": 2,
            "token": f"interaction-token-{len(self.callbacks)}",
            "version": 1,
            "channel_id": channel,
            "channel": {"id": channel, "type": 1, "recipients": [_user(user_id)]},
            "user": _user(user_id),
            "data": {
                "id": self._command_id(name),
                "name": name,
                "type": 1,
                "options": [
                    {"name": key, "type": 3, "value": value}
                    for key, value in (options or {}).items()
                ],
            },
            "locale": "en-US",
            "app_permissions": "0",
            "entitlements": [],
            "authorizing_integration_owners": {"1": user_id},
            "context": 1,
            "attachment_size_limit": 8_388_608,
        }
        await self.dispatch("INTERACTION_CREATE", interaction)
        return interaction

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to every session (kept for a RESUME if it is not connected)."""
        for session in self.sessions.values():
            payload = {"op": OP_DISPATCH, "t": event, "s": session.sequence + 1, "d": data}
            session.events.append(payload)
            if session.socket is not None and not session.socket.closed:
                with contextlib.suppress(ConnectionResetError):
                    await session.socket.send_str(json.dumps(payload))

    async def disconnect(self) -> None:
        """Drop the bot's connection (4000, unknown error): discord.py resumes."""
        self._ready.clear()
        for session in self.sessions.values():
            if session.socket is not None:
                await session.socket.close(code=4000)
                session.socket = None

    def forget_bot(self) -> None:
        """A bot stopped for good: its session and registrations go (a new one starts over)."""
        self.sessions.clear()
        self.commands = []
        self._ready.clear()

    def sent_to(self, channel_id: str) -> list[dict[str, Any]]:
        """The message bodies the bot posted in a channel."""
        return [
            dict(request.fields)
            for request in self.requests
            if request.path == f"/api/v10/channels/{channel_id}/messages"
        ]

    # -- the gateway ----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(
            json.dumps({"op": OP_HELLO, "d": {"heartbeat_interval": HEARTBEAT_MS}})
        )
        session: Session | None = None
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            op = message.get("op")
            if op == OP_HEARTBEAT:
                self.heartbeats += 1
                await socket.send_str(json.dumps({"op": OP_HEARTBEAT_ACK}))
            elif op == OP_IDENTIFY:
                session = await self._identify(socket, message["d"])
            elif op == OP_RESUME:
                session = await self._resume(socket, message["d"])
            if socket.closed:
                break
        if session is not None and session.socket is socket:
            session.socket = None
        return socket

    async def _identify(
        self, socket: web.WebSocketResponse, data: dict[str, Any]
    ) -> Session | None:
        if data.get("token") != self.token or not self.token_accepted_by_gateway:
            await socket.close(code=4004, message=b"Authentication failed.")
            return None
        self.identifies += 1
        session = Session(session_id=f"session-{self.identifies}", socket=socket)
        self.sessions = {session.session_id: session}  # a new IDENTIFY ends the old session
        ready = {
            "v": 10,
            "user": _user(BOT_ID, bot=True),
            "guilds": [],
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": APPLICATION_ID, "flags": 0},
            "shard": [0, 1],
        }
        session.events.append({"op": OP_DISPATCH, "t": "READY", "s": 1, "d": ready})
        await socket.send_str(json.dumps(session.events[-1]))
        self._ready.set()
        return session

    async def _resume(self, socket: web.WebSocketResponse, data: dict[str, Any]) -> Session | None:
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") != self.token or session is None:
            await socket.send_str(json.dumps({"op": OP_INVALID_SESSION, "d": False}))
            return None
        self.resumes += 1
        session.socket = socket
        after = int(data.get("seq") or 0)
        for event in session.events[after:]:
            await socket.send_str(json.dumps(event))
        resumed = {"op": OP_DISPATCH, "t": "RESUMED", "s": session.sequence + 1, "d": {}}
        session.events.append(resumed)
        await socket.send_str(json.dumps(resumed))
        self._ready.set()
        return session

    # -- REST -----------------------------------------------------------------------------------

    async def _me(self, request: web.Request) -> web.Response:
        """The bot's user, as complete as discord.py's login needs it."""
        await self._record(request)
        if not self._authorised(request):
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return json_response({**_user(BOT_ID, bot=True), "mfa_enabled": False, "flags": 0})

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        await self._record(request)
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _application(self, request: web.Request) -> web.Response:
        await self._record(request)
        if not self._authorised(request):
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return json_response(
            {
                "id": APPLICATION_ID,
                "name": "impressox",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": _user("1100000000000000003"),
                "verify_key": "0" * 64,
                "flags": 0,
            }
        )

    async def _register(self, request: web.Request) -> web.Response:
        await self._record(request)
        self.commands = list(await request.json())
        return json_response(
            [
                {
                    **command,
                    "id": self._command_id(command["name"]),
                    "application_id": APPLICATION_ID,
                    "version": "1",
                    "default_member_permissions": None,
                    "dm_permission": True,
                    "nsfw": False,
                }
                for command in self.commands
            ]
        )

    async def _callback(self, request: web.Request) -> web.Response:
        await self._record(request)
        body = await request.json()
        interaction_id = request.match_info["id"]
        self.callbacks.append({"interaction_id": interaction_id, "body": body})
        return json_response(
            {
                "interaction": {"id": interaction_id, "type": 2},
                "resource": {"type": body.get("type", 4)},
            }
        )

    def _created(self, channel: str, recorded: Request) -> dict[str, Any]:
        """A posted message as Discord returns it: complete enough for discord.py."""
        return {
            **super()._created(channel, recorded),
            "author": _user(BOT_ID, bot=True),
            "type": 0 if "message_reference" not in recorded.fields else 19,
            "timestamp": "2026-12-06T12:00:00.000000+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "pinned": False,
        }

    def _command_id(self, name: str) -> str:
        return str(1_400_000_000_000_000_000 + sum(map(ord, name)))


def dm_channel(user_id: str) -> str:
    """The DM channel of a user with the bot (a snowflake of its own)."""
    return f"9{user_id[1:]}"


def _user(user_id: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": "ix" if user_id == BOT_ID else f"trader{user_id[-4:]}",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "bot": bot,
    }
