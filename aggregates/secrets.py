"""Secrets in events without secrets in events: sealed webhook secrets, hashed API keys.

A webhook's signing secret must be recoverable (notify signs with it), so it is sealed
with AES-256-GCM under a server key that never enters a stream; an API key need only be
recognised, so only its SHA-256 is recorded (it is 256 random bits: no salt or slow
hash is needed, as for GitHub's tokens). Plain values are returned once, at creation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from Crypto.Cipher import AES

from aggregates.errors import InvalidCommandError
from aggregates.model import Immutable

API_KEY_PREFIX = "ixk"
KEY_BYTES = 32


class SealedSecret(Immutable):
    """A secret encrypted with the server key (AES-256-GCM), as base64 text."""

    nonce: str
    ciphertext: str
    tag: str


class SecretBox:
    """Seals and opens secrets with one server key (32 bytes)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the secret key must be {KEY_BYTES} bytes, not {len(key)}")
        self._key = key

    @staticmethod
    def new_key() -> bytes:
        return secrets.token_bytes(KEY_BYTES)

    def seal(self, plaintext: str) -> SealedSecret:
        cipher = AES.new(self._key, AES.MODE_GCM)
        ciphertext, tag = cipher.encrypt_and_digest(plaintext.encode())
        return SealedSecret(
            nonce=_b64(bytes(cipher.nonce)), ciphertext=_b64(ciphertext), tag=_b64(tag)
        )

    def open(self, sealed: SealedSecret) -> str:
        """The plain secret; a wrong key or tampered ciphertext raises ValueError."""
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=_unb64(sealed.nonce))
        return cipher.decrypt_and_verify(_unb64(sealed.ciphertext), _unb64(sealed.tag)).decode()


def new_signing_secret() -> str:
    """A webhook signing secret: 32 random bytes, URL-safe text."""
    return secrets.token_urlsafe(KEY_BYTES)


def new_api_key() -> tuple[str, str]:
    """A new API key as (key id, the token to hand out once).

    The token is ``ixk_<key id>_<secret>``: the id finds the key, the secret proves it.
    """
    key_id = secrets.token_hex(8)
    return key_id, f"{API_KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(KEY_BYTES)}"


def split_api_key(token: str) -> tuple[str, str]:
    """The key id and secret of a token; a malformed token is refused."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != API_KEY_PREFIX or len(key_id) != 16 or not secret:
        raise InvalidCommandError("not an Impressox API key", field="api_key")
    return key_id, secret


def hash_api_key(token: str) -> str:
    """What is recorded of a key: the SHA-256 of its secret part, in hex."""
    _, secret = split_api_key(token)
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_matches(token: str, recorded_hash: str) -> bool:
    """Whether a presented token is the key recorded with this hash (constant time)."""
    return hmac.compare_digest(hash_api_key(token), recorded_hash)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)
