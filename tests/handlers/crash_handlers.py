"""Handlers that worker subprocesses of the crash test load (IMPRESSOX_MODULES)."""

from __future__ import annotations

from events.envelope import RecordedEvent
from handlers.declaration import HandlerResult, Output, handler
from tests.factories import Pinged, Ponged


@handler("copier", categories=["pings"], types=[Pinged])
async def copy_ping(recorded: RecordedEvent) -> HandlerResult:
    """One pong per ping."""
    payload = recorded.event.payload
    assert isinstance(payload, Pinged)
    return [Output("pongs", recorded.event.caused(Ponged(n=payload.n)))]
