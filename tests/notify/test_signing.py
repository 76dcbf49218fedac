"""Webhook signatures: what a receiver checks, computed independently of our signer."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from notify.signing import InvalidSignatureError, sign, verify

BODY = b'{"type":"alert.triggered"}'
NOW = 1_732_182_312


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"s3cret", b"1732182312." + BODY, hashlib.sha256).hexdigest()
    assert sign("s3cret", BODY, NOW) == f"t={NOW},v1={expected}"


def test_verify_accepts_a_fresh_signature_and_returns_its_time() -> None:
    assert verify("s3cret", sign("s3cret", BODY, NOW), BODY, now=NOW + 10) == NOW


@pytest.mark.parametrize(
    ("header", "body", "now", "problem"),
    [
        (sign("s3cret", BODY, NOW), BODY + b" ", NOW, "no v1 signature matches"),
        (sign("other", BODY, NOW), BODY, NOW, "no v1 signature matches"),
        (sign("s3cret", BODY, NOW), BODY, NOW + 301, "away from now"),
        (sign("s3cret", BODY, NOW), BODY, NOW - 301, "away from now"),
        ("v1=abc", BODY, NOW, "no timestamp"),
        (f"t={NOW}", BODY, NOW, "no v1 signature matches"),
    ],
)
def test_verify_refuses(header: str, body: bytes, now: int, problem: str) -> None:
    with pytest.raises(InvalidSignatureError, match=problem):
        verify("s3cret", header, body, now=now)


def test_any_of_several_signatures_may_match_during_a_rotation() -> None:
    old = sign("old", BODY, NOW).split(",")[1]
    assert verify("s3cret", f"{sign('s3cret', BODY, NOW)},{old}", BODY, now=NOW) == NOW
