"""Noticing that a source went quiet about a symbol, once per silence.

A feed that stops without an error is the failure operators miss (a socket that stays
open and silent, a symbol the venue stopped quoting). For each (venue, symbol) a source
is expected to report, the watch remembers when a new price last arrived; once nothing
new came for `stale_after_s`, it produces one `source.stale` event. Its id is derived
from the silence (source, venue, symbol, silent since), so a retried append or a second
look at the same silence never records it twice. The next new price ends the silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid5

import structlog

from events.catalog import PriceTick, SourceStale
from events.envelope import Event
from sources.tick import TICK_ID_NAMESPACE

log = structlog.get_logger(__name__)


@dataclass
class _Quiet:
    """What the watch knows of one (venue, symbol)."""

    silent_since: datetime
    last_tick_at: datetime | None = None
    stale: bool = False


class StalenessWatch:
    """Tracks the last new price per (venue, symbol) of one source."""

    def __init__(self, source: str, stale_after_s: float) -> None:
        if stale_after_s <= 0:
            raise ValueError(f"stale_after_s must be positive, not {stale_after_s}")
        self.source = source
        self.stale_after_s = stale_after_s
        self._after = timedelta(seconds=stale_after_s)
        self._symbols: dict[tuple[str, str], _Quiet] = {}

    def expect(self, venue: str, symbols: tuple[str, ...], now: datetime) -> None:
        """Start watching symbols the source should report, silent from `now` on."""
        for symbol in symbols:
            self._symbols.setdefault((venue, symbol), _Quiet(silent_since=now))

    def observed(self, tick: PriceTick, now: datetime) -> None:
        """A price arrived; only a newer source time than the last one counts as news."""
        quiet = self._symbols.setdefault((tick.venue, tick.symbol), _Quiet(silent_since=now))
        if quiet.last_tick_at is not None and tick.source_time <= quiet.last_tick_at:
            return
        if quiet.stale:
            log.info(
                "price source recovered",
                source=self.source,
                venue=tick.venue,
                symbol=tick.symbol,
                silent_for_s=round((now - quiet.silent_since).total_seconds(), 1),
            )
        quiet.silent_since, quiet.last_tick_at, quiet.stale = now, tick.source_time, False

    def due(self, now: datetime) -> list[Event]:
        """`source.stale` events of the silences that reached the limit since the last call."""
        events = []
        for (venue, symbol), quiet in self._symbols.items():
            if quiet.stale or now - quiet.silent_since < self._after:
                continue
            quiet.stale = True
            log.warning(
                "price source is stale",
                source=self.source,
                venue=venue,
                symbol=symbol,
                silent_since=quiet.silent_since.isoformat(),
                stale_after_s=self.stale_after_s,
            )
            events.append(self._event(venue, symbol, quiet, now))
        return events

    def stale_symbols(self) -> list[str]:
        """Symbols currently silent past the limit, for status displays."""
        return sorted(symbol for (_, symbol), quiet in self._symbols.items() if quiet.stale)

    def _event(self, venue: str, symbol: str, quiet: _Quiet, now: datetime) -> Event:
        payload = SourceStale(
            source=self.source,
            venue=venue,
            symbol=symbol,
            silent_since=quiet.silent_since,
            last_tick_at=quiet.last_tick_at,
            stale_after_s=self.stale_after_s,
            at=now,
        )
        silence = f"stale|{self.source}|{venue}|{symbol}|{quiet.silent_since.isoformat()}"
        return Event(
            event_id=uuid5(TICK_ID_NAMESPACE, silence),
            key=payload.partition_key(),
            occurred_at=now,
            payload=payload,
        )
