"""What every channel sender must do, as one abstract test case per the style guide:
each kind subclasses it with its local server (see test_channels.py).

A sender sends once and sorts the answer: delivered (a receipt), transient (worth a
retry, with the server's requested wait) or permanent (refused for good).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest

from notify.errors import PermanentDeliveryError, TransientDeliveryError
from notify.senders import Sender
from tests.notify.servers import FakeService, Fault, Request
from tests.notify.support import notice

TIMEOUT_S = 0.3
"""Each sender's request timeout: the 'hang' fault never answers, so this is how long
the timeout test takes, not a threshold it checks."""


@dataclass
class Rig:
    service: FakeService
    sender: Sender[Any]
    channel: Any
    unknown: Any
    """A channel of the same kind the service does not know."""


class ChannelContract(ABC):
    retry_after = 3.0
    expected_retry_after_s = 3.0
    """What the sender must report for a 429 asking for `retry_after` (kinds differ in
    where the wait is written)."""

    @abstractmethod
    def delivered(self, request: Request) -> None:
        """Assert the request carried the message, escaped for the channel."""

    @pytest.fixture
    @abstractmethod
    async def rig(self) -> Rig: ...

    requests_per_message = 1

    def sends(self, rig: Rig) -> list[Request]:
        """The requests a send made (not the login)."""
        return [
            r for r in rig.service.requests if r.method == "POST" and not r.path.endswith("/getMe")
        ]

    async def test_delivers_the_escaped_message(self, rig: Rig) -> None:
        receipt = await rig.sender.send(rig.channel, notice(), uuid4())
        sends = self.sends(rig)
        assert len(sends) == self.requests_per_message
        self.delivered(sends[-1])
        assert receipt.response
        assert "token" not in receipt.response.lower()

    async def test_rate_limit_is_transient_with_the_wait_asked_for(self, rig: Rig) -> None:
        rig.service.fail(Fault("rate_limited", retry_after=self.retry_after))
        with pytest.raises(TransientDeliveryError) as raised:
            await rig.sender.send(rig.channel, notice(), uuid4())
        assert raised.value.retry_after_s == self.expected_retry_after_s
        assert raised.value.status_code == 429

    async def test_server_error_is_transient(self, rig: Rig) -> None:
        rig.service.fail(Fault("server_error", status=503))
        with pytest.raises(TransientDeliveryError):
            await rig.sender.send(rig.channel, notice(), uuid4())

    async def test_no_answer_is_transient(self, rig: Rig) -> None:
        rig.service.fail(Fault("hang"))
        with pytest.raises(TransientDeliveryError, match=r"no (HTTP )?answer"):
            await rig.sender.send(rig.channel, notice(), uuid4())

    async def test_unknown_target_is_permanent(self, rig: Rig) -> None:
        with pytest.raises(PermanentDeliveryError) as raised:
            await rig.sender.send(rig.unknown, notice(), uuid4())
        assert raised.value.status_code in (400, 404)
        assert len(self.sends(rig)) == 1
