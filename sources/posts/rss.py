"""Posts from RSS and Atom feeds: any news site, blog or bridge that publishes one.

Each poll fetches every configured feed and every feed URL some user watches (accounts
of platform ``rss``), with the ETag and Last-Modified of the previous answer, so an
unchanged feed costs a ``304``. feedparser reads RSS 0.9x-2.0, RSS 1.0 and Atom alike.
An entry's id is its ``id`` (Atom) or ``guid`` (RSS), else its link; its author is the
entry's, else the feed's title. A feed that fails (network, 4xx/5xx, not a feed) is
reported and tried again next poll; the others go on.

Feeds the operator configured are fetched as they are. Feeds users watch are URLs a user
typed, so they go through `outbound.guarded_http`: every connection (each redirect's
too) opens only to an address the destination policy allows, never the machine's own
services; a refused feed is reported like an unreachable one.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, datetime
from typing import Any

import feedparser
import httpx
import structlog

from aggregates.destinations import DestinationPolicy, RefusedDestinationError
from events.catalog import PostScraped
from outbound.guarded_http import AsyncResolve, guarded_client, system_resolve
from sources.clock import Clock, Sleep, real_sleep, utc_now
from sources.errors import SourceInputError
from sources.posts.follows import Follows
from sources.posts.post import cashtags_in, symbols_in

log = structlog.get_logger(__name__)

SOURCE = "rss"
HTTP_OK = 200
HTTP_NOT_MODIFIED = 304
MAX_ID = 128
MAX_AUTHOR = 128
MAX_TEXT = 20_000
MAX_LANGUAGE = 16
MAX_URL = 2048
_TAG = re.compile(r"<[^>]+>")


class RssSource:
    """Entries of feeds, polled."""

    name = SOURCE
    total = None

    def __init__(
        self,
        feeds: Sequence[str] = (),
        *,
        follows: Follows | None = None,
        destinations: DestinationPolicy | None = None,
        resolve: AsyncResolve = system_resolve,
        poll_interval_s: float = 300.0,
        timeout_s: float = 10.0,
        clock: Clock = utc_now,
        sleep: Sleep = real_sleep,
    ) -> None:
        if not feeds and follows is None:
            raise SourceInputError("the rss source needs a feed URL (IMPRESSOX_RSS_FEEDS)")
        for feed in feeds:
            if not feed.startswith(("http://", "https://")):
                raise SourceInputError(f"invalid feed URL {feed!r}: use http:// or https://")
        if poll_interval_s <= 0 or timeout_s <= 0:
            raise SourceInputError("the poll interval and the timeout must be positive")
        self.feeds = list(feeds)
        self.follows = follows
        self.destinations = destinations or DestinationPolicy()
        self.resolve = resolve
        self.poll_interval_s = poll_interval_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.sleep = sleep
        self._client: httpx.AsyncClient | None = None
        self._guarded: httpx.AsyncClient | None = None
        """For feeds users watch: connections only where `destinations` allows."""
        self._validators: dict[str, dict[str, str]] = {}
        """Feed -> the conditional-request headers its last answer allows."""

    async def open(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=True)
        self._guarded = guarded_client(
            self.destinations, timeout=self.timeout_s, resolve=self.resolve, follow_redirects=True
        )

    async def aclose(self) -> None:
        for client in (self._client, self._guarded):
            if client is not None:
                await client.aclose()
        self._client = self._guarded = None

    async def batches(self) -> AsyncGenerator[list[PostScraped], None]:
        while True:
            for feed in await self._feeds():
                posts = await self._read(feed)
                if posts:
                    yield posts
            await self.sleep(self.poll_interval_s)

    async def _feeds(self) -> list[str]:
        feeds = list(self.feeds)
        if self.follows is not None:
            await self.follows.refresh()
            watched = self.follows.accounts(SOURCE)
            feeds += [url for url in watched if url.startswith(("http://", "https://"))]
        return list(dict.fromkeys(feeds))

    async def _read(self, feed: str) -> list[PostScraped]:
        """The entries of one feed now; none if it is unchanged or failed."""
        client = self._client if feed in self.feeds else self._guarded
        assert client is not None, "open() the source first"
        try:
            response = await client.get(feed, headers=self._validators.get(feed, {}))
        except RefusedDestinationError:
            log.warning("watched feed points at a refused address; skipped", feed=feed)
            return []
        except httpx.HTTPError as error:
            log.warning("feed unreachable; retrying next poll", feed=feed, error=str(error))
            return []
        if response.status_code == HTTP_NOT_MODIFIED:
            return []
        if response.status_code != HTTP_OK:
            log.error("feed refused; retrying next poll", feed=feed, status=response.status_code)
            return []
        self._validators[feed] = {
            name: response.headers[header]
            for header, name in (("etag", "if-none-match"), ("last-modified", "if-modified-since"))
            if header in response.headers
        }
        parsed = feedparser.parse(response.content)
        if parsed.bozo and not parsed.entries:
            log.error("not a feed; retrying next poll", feed=feed, error=str(parsed.bozo_exception))
            return []
        return [post for entry in parsed.entries if (post := self._post(feed, parsed, entry))]

    def _post(self, feed: str, parsed: Any, entry: Any) -> PostScraped | None:
        post_id = entry.get("id") or entry.get("link")
        if not post_id:
            log.warning("feed entry without id or link; skipped", feed=feed)
            return None
        title = _plain(entry.get("title", ""))
        summary = _plain(entry.get("summary", ""))
        text = "\n\n".join(part for part in (title, summary) if part)[:MAX_TEXT]
        author = entry.get("author") or parsed.feed.get("title") or httpx.URL(feed).host
        language = parsed.feed.get("language")
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        link = entry.get("link")
        return PostScraped(
            source=SOURCE,
            post_id=_bounded_id(str(post_id)),
            author=str(author)[:MAX_AUTHOR],
            text=text,
            language=str(language)[:MAX_LANGUAGE] if language else None,
            created_at=_time(stamp) if stamp else self.clock(),
            url=link if isinstance(link, str) and len(link) <= MAX_URL else None,
            cashtags=cashtags_in(text),
            symbols=symbols_in(text),
        )


def _time(stamp: Any) -> datetime:
    """feedparser's UTC struct_time as an aware datetime."""
    return datetime.fromtimestamp(calendar.timegm(stamp), UTC)


def _plain(markup: str) -> str:
    """Feed HTML as text: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split())


def _bounded_id(post_id: str) -> str:
    """An entry id that fits a post id; a longer one (a long URL) by its digest."""
    if len(post_id) <= MAX_ID:
        return post_id
    return "sha256:" + hashlib.sha256(post_id.encode()).hexdigest()
