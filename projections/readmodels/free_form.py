"""Free-form maps in read models (an alert's values, a chain log's args), kept as JSON.

Producers put any JSON in these maps, and BSON cannot hold all of it: integers beyond
64 bits (token amounts are uint256) do not fit, and MongoDB restricts key names starting
with ``$`` or holding ``.``. Stored as JSON text they round-trip exactly, and no one
queries inside them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def to_text(values: Mapping[str, Any]) -> str:
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


def from_text(text: str) -> dict[str, Any]:
    values = json.loads(text)
    if not isinstance(values, dict):
        raise TypeError(f"a free-form map was stored as {type(values).__name__}, not an object")
    return values
