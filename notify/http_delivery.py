"""What the HTTP channels (webhooks, Discord webhooks) share: one POST, one verdict.

A response is sorted into the error kinds of `notify.errors`:

- 2xx: delivered.
- 429: transient, with the wait the server asked for: ``Retry-After`` in seconds or as
  an HTTP date, or the ``retry_after`` seconds of a Discord-style JSON body.
- 408, 425 and 5xx, timeouts and connection errors: transient.
- 3xx: permanent. Redirects are not followed: a signed request must not be replayed to
  another host, and a webhook that moved should be updated by its owner.
- any other 4xx: permanent (gone, unauthorised, refused).
- a destination the policy refuses (`aggregates.destinations`): permanent, before any
  connection is made.
- any other error of the transport (a stored URL whose port no connection can use,
  ``:99999``): permanent, with one fixed message; nothing escapes as an unknown error.

What is recorded is the status and a fixed message for its class, never the body nor
the URL: the outcome is shown to the user and logged, and a user must not be able to
read what some server answered (a Discord webhook's URL holds its token). Every failure
to get an HTTP answer (refused, reset, not HTTP, timed out, unresolvable) has one
message, so an outcome never tells an open port from a closed one. At most
`MAX_BODY_BYTES` of an answer are read: a receiver cannot make us hold a large body.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog

from aggregates.destinations import RefusedDestinationError
from notify.errors import PermanentDeliveryError, TransientDeliveryError

log = structlog.get_logger(__name__)

TRANSIENT_STATUS = frozenset({408, 425, 429})
MAX_BODY_BYTES = 64 * 1024
"""Of an answer's body, what is read (for a Discord message id or retry_after)."""
UNDONE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
NO_ANSWER = "no HTTP answer (cannot connect, or timeout)"
UNUSABLE_URL = "the URL cannot be used (its port or address is invalid; update the channel)"


async def post(
    client: httpx.AsyncClient, url: str, what: str, *, now: datetime, **request: Any
) -> httpx.Response:
    """POST and return a 2xx response; anything else raises a `DeliveryError`."""
    try:
        response = await _post(client, url, **request)
    except RefusedDestinationError as refused:
        raise PermanentDeliveryError(f"{what}: refused: {refused}") from None
    except httpx.HTTPError:  # timeouts, connection and protocol errors alike
        raise TransientDeliveryError(f"{what}: {NO_ANSWER}") from None
    except Exception as error:  # e.g. ExceptionGroup[OverflowError] for a port of 99999
        # Not an HTTP error: the request could not even be made (a stored URL with a port
        # no connection can use). Retrying would not help; its text is no user's business.
        log.warning(
            "a delivery failed before any connection", what=what, error=type(error).__name__
        )
        raise PermanentDeliveryError(f"{what}: {UNUSABLE_URL}") from None
    if response.is_success:
        return response
    status = response.status_code
    if status == 429:
        raise TransientDeliveryError(
            f"{what}: HTTP 429 (rate limited; retried later)",
            status_code=status,
            retry_after_s=retry_after_s(response, now),
        )
    if status in TRANSIENT_STATUS or status >= 500:
        raise TransientDeliveryError(
            f"{what}: HTTP {status} (the receiver failed; retried)",
            status_code=status,
            retry_after_s=retry_after_s(response, now),
        )
    if response.is_redirect:
        raise PermanentDeliveryError(
            f"{what}: HTTP {status} redirect, not followed (update the URL)", status_code=status
        )
    raise PermanentDeliveryError(f"{what}: HTTP {status} (refused)", status_code=status)


async def _post(client: httpx.AsyncClient, url: str, **request: Any) -> httpx.Response:
    """The answer, with at most `MAX_BODY_BYTES` of its body, as sent: compression is
    declined and not undone (a small compressed body can hold a very large one)."""
    headers = {"Accept-Encoding": "identity", **request.pop("headers", {})}
    async with client.stream(
        "POST", url, follow_redirects=False, headers=headers, **request
    ) as streamed:
        body = bytearray()
        async for chunk in streamed.aiter_raw():
            body += chunk[: MAX_BODY_BYTES - len(body)]
            if len(body) >= MAX_BODY_BYTES:
                break
        kept = {
            name: value
            for name, value in streamed.headers.items()
            if name.lower() not in UNDONE_HEADERS
        }
        return httpx.Response(
            streamed.status_code, headers=kept, content=bytes(body), request=streamed.request
        )


def retry_after_s(response: httpx.Response, now: datetime) -> float | None:
    """How long the server asked us to wait, if it did (seconds, never negative)."""
    body_value = _json_retry_after(response)
    if body_value is not None:
        return body_value
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, said without committing to it
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _json_retry_after(response: httpx.Response) -> float | None:
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        value = response.json().get("retry_after")
    except (ValueError, AttributeError):
        return None
    return max(0.0, float(value)) if isinstance(value, int | float) else None
