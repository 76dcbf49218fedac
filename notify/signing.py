"""Signing webhook requests, and verifying them on the receiving end.

Every webhook request carries::

    X-Impressox-Signature: t=1732182312,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e7…

where ``v1`` is the hex HMAC-SHA256, keyed with the channel's signing secret, of the
timestamp, a dot and the raw request body (``b"1732182312." + body``). Signing the
timestamp with the body lets a receiver refuse replays of an old request: it checks
the signature, then that ``t`` is recent (five minutes by default). This is Stripe's
scheme, so existing verifiers for it need only the header name changed.

A receiver in Python (any language with HMAC-SHA256 works the same way)::

    from notify.signing import verify, InvalidSignatureError

    try:
        verify(secret, request.headers["X-Impressox-Signature"], raw_body)
    except InvalidSignatureError:
        return 400

Verify against the raw bytes received, before parsing the JSON: re-serialising it
would change the bytes and break the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from events.errors import ImpressoxError

SIGNATURE_HEADER = "X-Impressox-Signature"
DEFAULT_TOLERANCE_S = 300


class InvalidSignatureError(ImpressoxError):
    """The request was not signed with this secret, was altered, or is too old."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<body>`` under `secret`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The value of the signature header for `body` sent at `timestamp` (Unix seconds)."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> int:
    """Check a signature header against the raw body; returns its timestamp.

    Raises InvalidSignatureError when the header is malformed, no ``v1`` matches, or the
    timestamp is more than `tolerance_s` away from `now` (default: the current time).
    Several ``v1`` values may be present (during a secret rotation); any may match.
    """
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, separator, value = item.strip().partition("=")
        if separator:
            parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise InvalidSignatureError("the signature header has no timestamp (t=...)") from None
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
        raise InvalidSignatureError("no v1 signature matches the body and secret")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise InvalidSignatureError(
            f"the signature's timestamp is {abs(current - timestamp):.0f}s away from now"
            f" (more than {tolerance_s}s): a replayed or delayed request"
        )
    return timestamp
