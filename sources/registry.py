"""The sources there are (prices, posts): what `impressox sources list` shows and `run` accepts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sources.errors import UnknownSourceError


@dataclass(frozen=True)
class SourceInfo:
    """One kind of source, as operators see it."""

    name: str
    kind: str
    description: str
    simulated: bool
    live: bool
    """Runs until stopped (a feed), rather than to the end of its input (a replay)."""
    category: str = "ticks"
    """What it appends: price ticks, posts (`sources.posts`), or chain events."""


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
        SourceInfo(
            "x",
            "posts (X API v2)",
            "Recent search and user timelines with a bearer token: configured queries and"
            " accounts, and every account and keyword users watch; resumes from saved cursors.",
            simulated=False,
            live=True,
            category="posts",
        ),
        SourceInfo(
            "rss",
            "posts (RSS/Atom)",
            "Entries of RSS or Atom feeds (news sites, bridges), polled with conditional GETs.",
            simulated=False,
            live=True,
            category="posts",
        ),
        SourceInfo(
            "posts-import",
            "posts (file import)",
            "Posts from a JSON-lines file, for backfills; without a file, the demo set.",
            simulated=False,
            live=False,
            category="posts",
        ),
    )
}


def source_info(name: str) -> SourceInfo:
    """The source called `name`; an unknown name says which there are."""
    info = SOURCES.get(name)
    if info is None:
        raise UnknownSourceError(f"no price source {name!r} (there are: {', '.join(SOURCES)})")
    return info


def watches_chain(configured: Iterable[str], registry: Mapping[str, SourceInfo] = SOURCES) -> bool:
    """Whether a source of chain events is among the `configured` ones (none is
    registered yet: a chain watcher registered with category ``chain`` turns it on)."""
    return any(registry[name].category == "chain" for name in configured if name in registry)
