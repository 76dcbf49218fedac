"""What can go wrong delivering a notification, sorted by what should happen next.

The retry loop only needs to know which of these it holds:

- `TransientDeliveryError`: the channel may accept the same message later (a timeout,
  a 5xx, a 429, a refused connection). Retried with backoff, honouring `retry_after`.
- `PermanentDeliveryError`: the channel refused this message for good (chat not found,
  bot blocked, webhook deleted, a 4xx). Recorded as failed at once, never retried.
- `ChannelUnavailableError`: this server cannot deliver to the channel's kind right now
  (no bot token configured, or the token was rejected). Not the user's fault and not
  fixed by waiting a second: recorded as failed and dead-lettered, so an operator can
  retry once the configuration is fixed.

Messages never contain tokens or webhook URLs: they end up in events and logs.
"""

from __future__ import annotations

from events.errors import ImpressoxError


class DeliveryError(ImpressoxError):
    """Delivery to one channel failed. `status_code` is the channel's HTTP answer, if any."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class TransientDeliveryError(DeliveryError):
    """Worth retrying; `retry_after_s` is how long the channel asked us to wait, if it did."""

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after_s = retry_after_s


class PermanentDeliveryError(DeliveryError):
    """The channel refused the message for good: retrying would be refused the same way."""


class ChannelUnavailableError(DeliveryError):
    """This server is not set up to deliver to the channel's kind (an operator must act)."""


class DeliveryGaveUpError(ImpressoxError):
    """Raised to the runtime after recording `notification.failed` for the channels given
    up on, so it dead-letters the alert and an operator can retry it."""
