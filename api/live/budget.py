"""A connection's message budget: a token bucket in memory, living as long as the socket.

Requests on a WebSocket do not pass the REST rate limits, so a client could send
thousands of messages a second on one connection and earn an error reply for each
(issue 13 saw 5,000 messages earn 2,285 replies while the connection stayed open).
Every message a client sends after its handshake takes a token; a client that runs out
is closed with 4429. The bucket needs no Redis: it belongs to one connection, in one
process.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class MessageBudget:
    """`per_minute` messages on average, up to `burst` at once (0 per minute: no limit)."""

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        """Spend a token on one message; False once the budget is spent."""
        if self.per_minute == 0:
            return True
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_minute / 60)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
