"""The notify handler: delivers each ``alert.triggered`` to the channels of its rule, and
each ``channel.test_requested`` to the one channel a user asked to test.

Every process imports this module (it is one of `impressox.modules.BUILTIN_MODULES`)
to know the handler exists; only a notify worker builds it. So the declaration imports
nothing heavy, and building it imports the delivery machinery (the Telegram and Discord
libraries, the aggregates application: about a second) on demand.

Building it also starts the releaser of held deliveries (quiet hours, rate limits) as
a background task of the worker's event loop: it must run from the start, whether
alerts arrive or not, so held alerts go out after a restart. The task owns the
notifier's clients and closes them when cancelled, which ``asyncio.run`` does at exit;
`aclose` does it earlier.
"""

from __future__ import annotations

import asyncio

from events.catalog import AlertTriggered, ChannelTestRequested
from events.envelope import RecordedEvent
from handlers.declaration import Output, handler
from notify.clock import Clock, Sleep, utc_now
from notify.config import NotifyContext
from notify.keys import HANDLER
from notify.retry import Jitter


@handler(
    HANDLER,
    categories=[AlertTriggered.category, ChannelTestRequested.category],
    types=[AlertTriggered, ChannelTestRequested],
    context=NotifyContext,
)
class Notifier:
    """Delivers alerts (and channel tests) to web, Telegram, Discord and webhook channels
    (see the package)."""

    def __init__(
        self,
        context: NotifyContext,
        *,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        jitter: Jitter | None = None,
    ) -> None:
        from notify.service import NotificationService  # noqa: PLC0415 - heavy: see above

        self._service = NotificationService.from_context(
            context, clock=clock, sleep=sleep, jitter=jitter
        )
        self._background = asyncio.get_running_loop().create_task(
            self._service.run(), name="notify:release-held"
        )

    async def handle(self, recorded: RecordedEvent) -> list[Output]:
        return await self._service.handle(recorded)

    async def aclose(self) -> None:
        """Stop releasing held deliveries and close the channels' clients."""
        self._background.cancel()
        await asyncio.gather(self._background, return_exceptions=True)
