"""What the HTTP channels (webhooks, Discord webhooks) share: one POST, one verdict.

A response is sorted into the error kinds of `handlers.notify.errors`:

- 2xx: delivered.
- 429: transient, with the wait the server asked for: ``Retry-After`` in seconds or as
  an HTTP date, or the ``retry_after`` seconds of a Discord-style JSON body.
- 408, 425 and 5xx, timeouts and connection errors: transient.
- 3xx: permanent. Redirects are not followed: a signed request must not be replayed to
  another host, and a webhook that moved should be updated by its owner.
- any other 4xx: permanent (gone, unauthorised, refused).

Error messages name the status and at most a short piece of the body, never the URL
(a Discord webhook's URL holds its token).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from handlers.notify.errors import PermanentDeliveryError, TransientDeliveryError

BODY_SNIPPET = 200
TRANSIENT_STATUS = frozenset({408, 425, 429})


async def post(
    client: httpx.AsyncClient, url: str, what: str, *, now: datetime, **request: Any
) -> httpx.Response:
    """POST and return a 2xx response; anything else raises a `DeliveryError`."""
    try:
        response = await client.post(url, follow_redirects=False, **request)
    except httpx.TimeoutException:
        raise TransientDeliveryError(f"{what}: no answer within the timeout") from None
    except httpx.TransportError as error:
        raise TransientDeliveryError(f"{what}: {type(error).__name__} (cannot connect)") from None
    if response.is_success:
        return response
    status = response.status_code
    detail = f"{what}: HTTP {status}{_snippet(response)}"
    if status in TRANSIENT_STATUS or status >= 500:
        raise TransientDeliveryError(
            detail, status_code=status, retry_after_s=retry_after_s(response, now)
        )
    if response.is_redirect:
        raise PermanentDeliveryError(
            f"{what}: HTTP {status} redirect, not followed (update the URL)", status_code=status
        )
    raise PermanentDeliveryError(detail, status_code=status)


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


def _snippet(response: httpx.Response) -> str:
    text = response.text.strip()
    if not text:
        return ""
    return ": " + (text if len(text) <= BODY_SNIPPET else text[: BODY_SNIPPET - 1] + "…")
