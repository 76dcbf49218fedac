"""Each channel sender against a local server speaking its protocol (the contract)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest

from aggregates.channels import (
    DiscordChannel,
    DiscordWebhookChannel,
    TelegramChannel,
    WebhookChannel,
)
from aggregates.destinations import DestinationPolicy
from aggregates.secrets import SecretBox
from notify.discord_bot import DiscordBotSender
from notify.discord_webhook import DiscordWebhookSender
from notify.errors import ChannelUnavailableError, PermanentDeliveryError
from notify.signing import SIGNATURE_HEADER, signature
from notify.telegram_bot import TelegramSender
from notify.webhook import WebhookSender
from tests.notify.channel_contract import TIMEOUT_S, ChannelContract, Rig
from tests.notify.servers import (
    DiscordApi,
    Fault,
    Request,
    TelegramBotApi,
    WebhookReceiver,
    serving,
)
from tests.notify.support import FakeClock, notice

CHAT = 4242
CHANNEL = "123456789012345678"
USER = "223456789012345678"
WEBHOOK_ID, WEBHOOK_TOKEN = "323456789012345678", "hook-token_XYZ"
LOCAL = DestinationPolicy.allowing(["127.0.0.1"])
"""The local receiver stands for a user's public one."""


def _escaped_html(text: str) -> None:
    assert "BTC &lt;b&gt;crossed&lt;/b&gt; 100k &amp; @everyone *now*" in text
    assert "<b>crossed</b>" not in text


def _discord_body(request: Request) -> None:
    body = request.fields
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["description"] == r"BTC <b>crossed</b> 100k & @everyone \*now\*"
    assert embed["title"].endswith("BTC/USDT: crosses_up")
    assert {"name": "price", "value": "100012.5", "inline": True} in embed["fields"]


class TestTelegram(ChannelContract):
    @pytest.fixture
    async def rig(self) -> AsyncIterator[Rig]:
        api = TelegramBotApi(chats={CHAT})
        async with serving(api.app(), api):
            sender = TelegramSender(api.token, f"{api.url}/bot", TIMEOUT_S)
            yield Rig(api, sender, TelegramChannel(chat_id=CHAT), TelegramChannel(chat_id=1))
            await sender.aclose()

    def delivered(self, request: Request) -> None:
        assert request.path == "/bot123456:test-token/sendMessage"
        assert request.fields["parse_mode"] == "HTML"
        assert request.fields["chat_id"] == str(CHAT)
        _escaped_html(request.fields["text"])

    async def test_a_rejected_token_is_a_configuration_problem(self) -> None:
        api = TelegramBotApi()
        async with serving(api.app(), api):
            sender = TelegramSender("999:wrong", f"{api.url}/bot", TIMEOUT_S)
            with pytest.raises(ChannelUnavailableError, match="token was rejected") as raised:
                await sender.send(TelegramChannel(chat_id=CHAT), notice(), uuid4())
            assert "999:wrong" not in str(raised.value)
            await sender.aclose()


class TestDiscordBotChannel(ChannelContract):
    retry_after = expected_retry_after_s = 60.0
    """Longer than discord.py sleeps through itself (30 s): it raises, we see the wait."""

    @pytest.fixture
    async def rig(self) -> AsyncIterator[Rig]:
        api = DiscordApi(channels={CHANNEL})
        async with serving(api.app(), api):
            sender = DiscordBotSender(api.token, f"{api.url}/api/v10", TIMEOUT_S)
            known = DiscordChannel(target="channel", id=CHANNEL)
            unknown = DiscordChannel(target="channel", id="999999999999999999")
            yield Rig(api, sender, known, unknown)
            await sender.aclose()

    def delivered(self, request: Request) -> None:
        assert request.path == f"/api/v10/channels/{CHANNEL}/messages"
        assert request.headers["Authorization"] == "Bot discord-bot-token"
        _discord_body(request)

    async def test_short_rate_limits_are_waited_out_by_discord_py(self, rig: Rig) -> None:
        rig.service.fail(Fault("rate_limited", retry_after=0.05))
        receipt = await rig.sender.send(rig.channel, notice(), uuid4())
        assert len(self.sends(rig)) == 2
        assert receipt.message_id is not None


class TestDiscordBotDirectMessage(ChannelContract):
    retry_after = expected_retry_after_s = 60.0
    requests_per_message = 2  # opening the DM channel, then the message

    @pytest.fixture
    async def rig(self) -> AsyncIterator[Rig]:
        api = DiscordApi(users={USER})
        async with serving(api.app(), api):
            sender = DiscordBotSender(api.token, f"{api.url}/api/v10", TIMEOUT_S)
            known = DiscordChannel(target="dm", id=USER)
            unknown = DiscordChannel(target="dm", id="999999999999999999")
            yield Rig(api, sender, known, unknown)
            await sender.aclose()

    def delivered(self, request: Request) -> None:
        assert request.path == f"/api/v10/channels/9{USER[1:]}/messages"
        _discord_body(request)

    async def test_the_dm_channel_is_opened_once(self, rig: Rig) -> None:
        for _ in range(2):
            await rig.sender.send(rig.channel, notice(), uuid4())
        assert [r.path for r in self.sends(rig)].count("/api/v10/users/@me/channels") == 1


class TestDiscordWebhook(ChannelContract):
    retry_after = expected_retry_after_s = 1.5
    """From the JSON body, which is more precise than the Retry-After header (2)."""

    @pytest.fixture
    async def rig(self) -> AsyncIterator[Rig]:
        api = DiscordApi(webhooks={WEBHOOK_ID: WEBHOOK_TOKEN})
        box = SecretBox(SecretBox.new_key())
        async with serving(api.app(), api):
            sender = DiscordWebhookSender(
                httpx.AsyncClient(timeout=TIMEOUT_S), f"{api.url}/api/v10", box.open, FakeClock()
            )
            real_url = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"
            other_url = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/revoked"
            known = DiscordWebhookChannel(url=box.seal(real_url))
            unknown = DiscordWebhookChannel(url=box.seal(other_url))
            yield Rig(api, sender, known, unknown)
            await sender.aclose()

    def delivered(self, request: Request) -> None:
        assert request.path == f"/api/v10/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"
        _discord_body(request)

    async def test_errors_never_show_the_url(self, rig: Rig) -> None:
        with pytest.raises(PermanentDeliveryError, match="HTTP 404") as raised:
            await rig.sender.send(rig.unknown, notice(), uuid4())
        assert "revoked" not in str(raised.value)


class TestWebhook(ChannelContract):
    @pytest.fixture
    async def rig(self) -> AsyncIterator[Rig]:
        receiver = WebhookReceiver(secret="s3cret")
        box = SecretBox(SecretBox.new_key())
        async with serving(receiver.app(), receiver):
            sender = WebhookSender(LOCAL, box.open, FakeClock(), timeout_s=TIMEOUT_S)
            known = WebhookChannel(url=f"{receiver.url}/hook", secret=box.seal("s3cret"))
            unknown = WebhookChannel(url=f"{receiver.url}/nowhere", secret=box.seal("s3cret"))
            yield Rig(receiver, sender, known, unknown)
            await sender.aclose()

    def delivered(self, request: Request) -> None:
        timestamp, v1 = (
            part.split("=", 1)[1] for part in request.headers[SIGNATURE_HEADER].split(",")
        )
        assert v1 == signature("s3cret", int(timestamp), request.body)
        body = json.loads(request.body)
        assert body["delivery_id"] == request.headers["X-Impressox-Delivery"]
        assert body["type"] == request.headers["X-Impressox-Event"] == "alert.triggered"
        assert body["alert"]["message"] == "BTC <b>crossed</b> 100k & @everyone *now*"
        assert body["alert"]["values"] == {"price": 100012.5, "threshold": 100000}

    async def test_the_receiver_verifies_the_signature(self, rig: Rig) -> None:
        await rig.sender.send(rig.channel, notice(), uuid4())
        assert isinstance(rig.service, WebhookReceiver)
        assert rig.service.verified == 1

    async def test_a_wrong_secret_is_refused_by_the_receiver(self, rig: Rig) -> None:
        box = SecretBox(SecretBox.new_key())
        sender = WebhookSender(LOCAL, box.open, FakeClock(), timeout_s=TIMEOUT_S)
        forged = WebhookChannel(url=rig.channel.url, secret=box.seal("not the secret"))
        with pytest.raises(PermanentDeliveryError, match="HTTP 400"):
            await sender.send(forged, notice(), uuid4())
        await sender.aclose()

    async def test_a_removed_hook_is_permanent(self, rig: Rig) -> None:
        rig.service.fail(Fault("gone"))
        with pytest.raises(PermanentDeliveryError, match="HTTP 410"):
            await rig.sender.send(rig.channel, notice(), uuid4())
