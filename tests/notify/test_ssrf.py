"""Webhooks never make the server call internal addresses (issue 13, item 1).

The reported attack: a webhook channel to ``http://127.0.0.1:<port>/`` made the notifier
connect to the embedded Redis and MongoDB; an internal service's error body came back
to the user in the outcome, and the outcome's wording told open ports from closed ones.
Channels added since are refused (tests/api/test_account.py); these tests cover the send
side, which must hold even for a channel stored before the check, or a name whose DNS
answer changed since.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import pytest
import trustme
from aiohttp import web

from aggregates.channels import WebhookChannel
from aggregates.destinations import DestinationPolicy
from aggregates.secrets import SecretBox
from aggregates.services.users import Users
from events.catalog import NotificationFailed
from events.store import EventStore
from notify.errors import PermanentDeliveryError
from notify.webhook import WebhookSender
from outbound.guarded_http import AsyncResolve
from tests.notify.conftest import StartWorker
from tests.notify.servers import SECRET_BODY, InternalService, WebhookReceiver, serving
from tests.notify.support import FakeClock, alert, notice
from tests.notify.test_notifier import until_outcomes

REFUSED = "webhook: refused: the host is not a public address"


@pytest.fixture
def overrides() -> dict[str, object]:
    return {"allowed_destinations": []}  # the default: public addresses only


async def stored_webhook(users: Users, url: str) -> UUID:
    """A user whose webhook channel points at `url`, recorded on the aggregate directly,
    as a channel added before URLs were checked is."""
    user_id = await asyncio.to_thread(users.register, "Mallory")
    channel = WebhookChannel(url=url, secret=users.secret_box.seal("s3cret"))
    await asyncio.to_thread(users.change, user_id, lambda user: user.add_channel("hook", channel))
    return user_id


async def failure_of(store: EventStore, notify_worker: StartWorker, user_id: UUID) -> str:
    """The error of the one outcome an alert to the user's webhook gets."""
    async with notify_worker():
        await store.append("alerts", alert(user_id, channels=("hook",)))
        (outcome,) = await until_outcomes(store, 1)
    assert isinstance(outcome, NotificationFailed), outcome
    return outcome.error


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://localhost.:{port}/",
        "http://2130706433:{port}/",
        "http://0x7f.1:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "https://127.0.0.1.:{port}/",
    ],
)
async def test_a_stored_webhook_to_an_internal_port_is_refused_without_connecting(
    *, store: EventStore, users: Users, notify_worker: StartWorker, url: str
) -> None:
    async with InternalService().running() as internal:
        user_id = await stored_webhook(users, url.format(port=internal.port))
        error = await failure_of(store, notify_worker, user_id)
    assert internal.connections == 0
    assert error == REFUSED


@pytest.mark.parametrize(
    "url", ["https://8.8.8.8:99999/", "http://8.8.8.8:99999/", "https://example.com:abc/"]
)
async def test_a_stored_webhook_with_an_unusable_port_fails_permanently(
    *, store: EventStore, users: Users, notify_worker: StartWorker, url: str
) -> None:
    """Issue 13: such a URL was accepted before ports were checked; sending to it raised
    ExceptionGroup[OverflowError], which no delivery error kind caught. Now it is a
    failed outcome with a fixed message, and the user still loads."""
    user_id = await stored_webhook(users, url)
    assert await failure_of(store, notify_worker, user_id) == (
        "webhook: the URL cannot be used (its port or address is invalid; update the channel)"
    )
    assert (await asyncio.to_thread(users.load, user_id)).channels["hook"].url == url  # type: ignore[union-attr]


@pytest.mark.parametrize("server", ["redis", "mongo"])
async def test_the_embedded_stores_are_never_reached(
    *,
    store: EventStore,
    users: Users,
    notify_worker: StartWorker,
    redis_url: str,
    mongo_url: str,
    server: str,
) -> None:
    parts = urlsplit(redis_url if server == "redis" else mongo_url)
    user_id = await stored_webhook(users, f"http://{parts.hostname}:{parts.port}/")
    assert await failure_of(store, notify_worker, user_id) == REFUSED


class TestWhereTheOperatorAllowsLoopback:
    """Even where connections to loopback are allowed, an outcome never shows what a
    server answered, nor whether a port is open."""

    @pytest.fixture
    def overrides(self) -> dict[str, object]:
        return {"allowed_destinations": ["127.0.0.0/8"]}

    async def test_open_and_closed_ports_fail_alike(
        self, *, store: EventStore, users: Users, notify_worker: StartWorker
    ) -> None:
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
        closed.close()
        errors: list[str] = []
        async with InternalService(speaks="redis").running() as internal:
            for port in (internal.port, closed_port):
                user_id = await stored_webhook(users, f"http://127.0.0.1:{port}/")
                async with notify_worker():
                    await store.append("alerts", alert(user_id, channels=("hook",)))
                    found = await until_outcomes(store, len(errors) + 1)
                (outcome,) = [o for o in found if o.user_id == user_id]
                assert isinstance(outcome, NotificationFailed)
                errors.append(outcome.error)
        assert internal.connections > 0
        assert errors[0] == errors[1]
        assert errors[0].startswith("webhook: no HTTP answer (cannot connect, or timeout)")

    async def test_a_servers_error_body_is_never_recorded(
        self, *, store: EventStore, users: Users, notify_worker: StartWorker
    ) -> None:
        async with InternalService(speaks="http").running() as internal:
            user_id = await stored_webhook(users, f"http://127.0.0.1:{internal.port}/")
            error = await failure_of(store, notify_worker, user_id)
        assert internal.connections > 0
        assert error.startswith("webhook: HTTP 500 (the receiver failed; retried)")
        assert SECRET_BODY not in error


# -- the send-time check against the address connected to -----------------------------------


def scripted(answers: dict[str, list[str]]) -> AsyncResolve:
    """A resolver answering from `answers`: DNS as a rebinding attacker runs it."""

    async def resolve(host: str, port: int) -> list[str]:
        return answers[host]

    return resolve


async def test_a_name_that_now_resolves_to_loopback_is_refused_at_connection() -> None:
    box = SecretBox(SecretBox.new_key())
    resolve = scripted({"hooks.example": ["93.184.216.34", "127.0.0.1"]})
    sender = WebhookSender(
        DestinationPolicy(), box.open, FakeClock(), timeout_s=1.0, resolve=resolve
    )
    async with InternalService().running() as internal:
        channel = WebhookChannel(
            url=f"https://hooks.example:{internal.port}/hook", secret=box.seal("s")
        )
        with pytest.raises(PermanentDeliveryError, match="not a public address"):
            await sender.send(channel, notice(), uuid4())
    await sender.aclose()
    assert internal.connections == 0


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_receiver(ca: trustme.CA) -> AsyncIterator[tuple[WebhookReceiver, list[str]]]:
    """A receiver at https://hooks.example:<port>, its certificate for that name; the list
    collects the server names clients asked for (SNI)."""
    names: list[str] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.example").configure_cert(context)
    context.sni_callback = lambda _socket, name, _context: names.append(name or "")
    receiver = WebhookReceiver(secret="s3cret", clock=FakeClock().timestamp)
    async with serving(receiver.app(), receiver, tls=context, host="hooks.example"):
        yield receiver, names


async def test_the_pinned_address_keeps_tls_sni_and_host_right(
    ca: trustme.CA, tls_receiver: tuple[WebhookReceiver, list[str]]
) -> None:
    receiver, names = tls_receiver
    box = SecretBox(SecretBox.new_key())
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    sender = WebhookSender(
        DestinationPolicy.allowing(["hooks.example"]),
        box.open,
        FakeClock(),
        timeout_s=2.0,
        resolve=scripted({"hooks.example": ["127.0.0.1"]}),
        verify=trusting,
    )
    channel = WebhookChannel(url=f"{receiver.url}/hook", secret=box.seal("s3cret"))
    receipt = await sender.send(channel, notice(), uuid4())
    await sender.aclose()
    assert receipt.status_code == 204
    assert receiver.verified == 1
    port = urlsplit(receiver.url).port
    assert receiver.requests[0].headers["Host"] == f"hooks.example:{port}"
    assert names == ["hooks.example"]


async def test_a_redirect_to_an_internal_address_is_not_followed() -> None:
    box = SecretBox(SecretBox.new_key())
    async with InternalService().running() as internal:

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPTemporaryRedirect(f"http://127.0.0.1:{internal.port}/")

        app = web.Application()
        app.router.add_post("/hook", moved)
        outside = WebhookReceiver()
        async with serving(app, outside):
            sender = WebhookSender(
                DestinationPolicy.allowing(["127.0.0.1/32"]), box.open, FakeClock(), timeout_s=1.0
            )
            channel = WebhookChannel(url=f"{outside.url}/hook", secret=box.seal("s"))
            with pytest.raises(PermanentDeliveryError, match="307 redirect, not followed"):
                await sender.send(channel, notice(), uuid4())
            await sender.aclose()
    assert internal.connections == 0


async def test_an_allowed_host_and_port_opens_that_port_only() -> None:
    """`127.0.0.1:<port>` in the allow list reaches that receiver, and not the other
    local ports (an entry without a port opens them all, the embedded stores' too)."""
    box = SecretBox(SecretBox.new_key())
    receiver = WebhookReceiver(secret="s3cret", clock=FakeClock().timestamp)
    async with serving(receiver.app(), receiver), InternalService().running() as internal:
        port = urlsplit(receiver.url).port
        sender = WebhookSender(
            DestinationPolicy.allowing([f"127.0.0.1:{port}"]), box.open, FakeClock(), timeout_s=2.0
        )
        try:
            hook = WebhookChannel(url=f"http://127.0.0.1:{port}/hook", secret=box.seal("s3cret"))
            assert (await sender.send(hook, notice(), uuid4())).status_code == 204
            for url in (
                f"http://127.0.0.1:{internal.port}/",
                f"https://127.0.0.1:{internal.port}/",
            ):
                other = WebhookChannel(url=url, secret=box.seal("s3cret"))
                with pytest.raises(PermanentDeliveryError, match="refused"):
                    await sender.send(other, notice(), uuid4())
        finally:
            await sender.aclose()
    assert receiver.verified == 1
    assert internal.connections == 0
