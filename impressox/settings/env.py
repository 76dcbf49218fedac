"""How a setting is named in the environment, shared by every section."""

from __future__ import annotations

import base64

from pydantic import AliasChoices

ENV_PREFIX = "IMPRESSOX_"
SECRET_KEY_BYTES = 32


def env_alias(name: str, *also: str) -> AliasChoices:
    """``IMPRESSOX_<NAME>``, after the conventional variables `also` (``REDIS_URL``)."""
    return AliasChoices(*also, ENV_PREFIX + name.upper())


def decoded(text: str) -> bytes:
    """Base64 text as bytes (empty when it is not base64)."""
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return b""
