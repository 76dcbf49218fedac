"""The price sources there are: what `impressox sources list` shows and `run` accepts."""

from __future__ import annotations

from dataclasses import dataclass

from sources.errors import UnknownSourceError


@dataclass(frozen=True)
class SourceInfo:
    """One kind of price source, as operators see it."""

    name: str
    kind: str
    description: str
    simulated: bool
    live: bool
    """Runs until stopped (a feed), rather than to the end of its input (a replay)."""


SOURCES: dict[str, SourceInfo] = {
    info.name: info
    for info in (
        SourceInfo(
            "simulator",
            "simulated market",
            "Seeded random walks with jumps and volume; the embedded default. Not real prices.",
            simulated=True,
            live=True,
        ),
        SourceInfo(
            "exchange",
            "exchange (ccxt)",
            "Tickers of any ccxt exchange: WebSocket where it streams, REST polling otherwise.",
            simulated=False,
            live=True,
        ),
        SourceInfo(
            "coingecko",
            "aggregator (HTTP)",
            "CoinGecko simple-price, polled within its rate limits (public, Demo or Pro key).",
            simulated=False,
            live=True,
        ),
        SourceInfo(
            "replay",
            "file replay",
            "Recorded prices from CSV or JSON lines, at 1x, 10x, ... or as fast as possible.",
            simulated=False,
            live=False,
        ),
    )
}


def source_info(name: str) -> SourceInfo:
    """The source called `name`; an unknown name says which there are."""
    info = SOURCES.get(name)
    if info is None:
        raise UnknownSourceError(f"no price source {name!r} (there are: {', '.join(SOURCES)})")
    return info
