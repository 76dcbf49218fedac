"""Posts from the X API v2: recent search and user timelines, with a bearer token.

Each poll follows every configured query and account, and every account (platform
``x``) and keyword that some user watches (`sources.posts.follows`). A query asks
``GET /2/tweets/search/recent``; an account is resolved once with
``GET /2/users/by/username/:username`` and read with ``GET /2/users/:id/tweets``. Both
page through ``meta.next_token`` (at most `max_pages` pages a poll, newest first) and
start after the query's ``since_id``, which is saved in Redis (`sources.posts.cursors`)
once the posts of the poll are stored: a restart resumes where the last one stopped.

Rate limits are per endpoint: when an answer says ``x-rate-limit-remaining: 0``, the
next request to that endpoint waits until ``x-rate-limit-reset`` (epoch seconds); a
``429`` is waited out the same way (or with growing delays if it names no reset).
Timeouts, connection errors and 5xx answers are retried with growing, jittered delays.
A refused token (401) stops the source with a message that names the setting, never
the token. A query X rejects (400) or an account it does not know is reported and
skipped; the others go on.

Ids stay strings from the JSON to the event: X ids overflow a double.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import structlog

from events.backoff import Backoff
from events.catalog import Engagement, PostScraped
from sources.clock import Clock, Sleep, real_sleep, utc_now
from sources.errors import RateLimitedError, SourceInputError, VenueError
from sources.posts.cursors import SinceIds, newer
from sources.posts.follows import Follows
from sources.posts.post import cashtags_in, symbols_in

log = structlog.get_logger(__name__)

X_API = "https://api.x.com"
SOURCE = "x"
TWEET_FIELDS = "created_at,lang,public_metrics,author_id"
HTTP_OK = 200
HTTP_BAD_REQUEST = 400
HTTP_UNAUTHORIZED = 401
HTTP_TOO_MANY_REQUESTS = 429
HTTP_SERVER_ERROR = 500


@dataclass(frozen=True)
class Query:
    """One thing to follow: a search, or an account's timeline (`handle` set)."""

    cursor: str
    """Its field in the cursors hash."""
    path: str
    params: dict[str, str]
    endpoint: str
    """Which rate limit it counts against."""
    handle: str | None = None


class XApiSource:
    """Posts matching searches and posts of accounts, from X."""

    name = SOURCE
    total = None

    def __init__(
        self,
        bearer_token: str,
        *,
        cursors: SinceIds,
        follows: Follows | None = None,
        queries: Sequence[str] = (),
        accounts: Sequence[str] = (),
        base_url: str = X_API,
        poll_interval_s: float = 60.0,
        max_pages: int = 5,
        page_size: int = 100,
        timeout_s: float = 10.0,
        backoff: Backoff | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = real_sleep,
    ) -> None:
        if not bearer_token:
            raise SourceInputError("the x source needs a bearer token (IMPRESSOX_X_BEARER_TOKEN)")
        if poll_interval_s <= 0 or timeout_s <= 0 or max_pages < 1:
            raise SourceInputError("the poll interval, timeout and page limit must be positive")
        if not 10 <= page_size <= 100:
            raise SourceInputError("the X page size must be between 10 and 100")
        self._token = bearer_token
        self.cursors = cursors
        self.follows = follows
        self.queries = list(queries)
        self.accounts = [handle.removeprefix("@") for handle in accounts]
        self.base_url = base_url.rstrip("/")
        self.poll_interval_s = poll_interval_s
        self.max_pages = max_pages
        self.page_size = page_size
        self.timeout_s = timeout_s
        self.backoff = backoff or Backoff(1.0, 60.0, "half")
        self.clock = clock
        self.sleep = sleep
        self._client: httpx.AsyncClient | None = None
        self._user_ids: dict[str, str | None] = {}
        """Handle -> X user id; None for a handle X does not know (reported once)."""
        self._paused_until: dict[str, float] = {}
        """Endpoint -> epoch seconds before which its quota is spent."""

    async def open(self) -> None:
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"authorization": f"Bearer {self._token}", "accept": "application/json"},
            timeout=self.timeout_s,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def batches(self) -> AsyncGenerator[list[PostScraped], None]:
        while True:
            for query in await self._queries():
                async for batch in self._follow(query):
                    yield batch
            await self.sleep(self.poll_interval_s)

    async def _queries(self) -> list[Query]:
        """Every search and timeline to read this poll, configured and watched."""
        searches, handles = list(self.queries), list(self.accounts)
        if self.follows is not None:
            await self.follows.refresh()
            searches += [_keyword_query(keyword) for keyword in self.follows.keywords()]
            handles += self.follows.accounts(SOURCE)
        found = [self._search(text) for text in dict.fromkeys(searches)]
        for handle in dict.fromkeys(handles):
            user_id = await self._user_id(handle)
            if user_id is not None:
                found.append(self._timeline(handle, user_id))
        return found

    def _search(self, text: str) -> Query:
        params = {
            "query": text,
            "max_results": str(self.page_size),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "username",
        }
        return Query(text, "/2/tweets/search/recent", params, "search")

    def _timeline(self, handle: str, user_id: str) -> Query:
        params = {"max_results": str(self.page_size), "tweet.fields": TWEET_FIELDS}
        return Query(f"user:{handle}", f"/2/users/{user_id}/tweets", params, "timeline", handle)

    async def _follow(self, query: Query) -> AsyncGenerator[list[PostScraped], None]:
        """New posts of one query, a page at a time; its cursor moves once all are stored."""
        since_id = await self.cursors.get(query.cursor)
        params = dict(query.params)
        if since_id is not None:
            params["since_id"] = since_id
        newest: str | None = None
        for _ in range(self.max_pages):
            body = await self._get(query.endpoint, query.path, params)
            if body is None:
                return  # rejected: reported, skipped until the next poll
            posts = self._posts(body, query.handle)
            for post in posts:
                if newest is None or newer(post.post_id, newest):
                    newest = post.post_id
            if posts:
                yield posts
            token = (body.get("meta") or {}).get("next_token")
            if not isinstance(token, str):
                break
            params["pagination_token" if query.handle else "next_token"] = token
        if newest is not None:
            await self.cursors.advance(query.cursor, newest)

    async def _user_id(self, handle: str) -> str | None:
        if handle not in self._user_ids:
            body = await self._get("users", f"/2/users/by/username/{handle}", {})
            data = (body or {}).get("data")
            user_id = data.get("id") if isinstance(data, dict) else None
            self._user_ids[handle] = user_id if isinstance(user_id, str) else None
            if self._user_ids[handle] is None:
                log.error("x has no such account; skipped", handle=handle)
        return self._user_ids[handle]

    async def _get(self, endpoint: str, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        """One answer of `path`, however many retries it takes; None if X rejects it."""
        while True:
            await self._wait_for_quota(endpoint)
            try:
                body = await self._request(endpoint, path, params)
            except RateLimitedError as error:
                delay = error.retry_after_s
            except (httpx.TransportError, _ServerError) as error:
                delay = self.backoff.next_delay()
                log.warning(
                    "x request failed; retrying",
                    error=f"{type(error).__name__}: {error}",
                    attempt=self.backoff.failures,
                    retry_in_s=round(delay, 2),
                )
            else:
                self.backoff.reset()
                return body
            await self.sleep(delay)

    async def _wait_for_quota(self, endpoint: str) -> None:
        until = self._paused_until.pop(endpoint, None)
        if until is not None:
            delay = until - self.clock().timestamp()
            if delay > 0:
                log.info("x rate limit spent; waiting", endpoint=endpoint, wait_s=round(delay, 2))
                await self.sleep(delay)

    async def _request(
        self, endpoint: str, path: str, params: dict[str, str]
    ) -> dict[str, Any] | None:
        assert self._client is not None, "open() the source first"
        response = await self._client.get(path, params=params)
        status = response.status_code
        if status == HTTP_TOO_MANY_REQUESTS:
            delay = self._until_reset(response) or self.backoff.next_delay()
            log.warning("x rate limit reached; waiting", endpoint=endpoint, wait_s=round(delay, 2))
            raise RateLimitedError(SOURCE, delay)
        if status >= HTTP_SERVER_ERROR:
            raise _ServerError(f"HTTP {status}")
        if status == HTTP_UNAUTHORIZED:
            raise VenueError(
                "X refused the bearer token (HTTP 401): check IMPRESSOX_X_BEARER_TOKEN"
            )
        if status != HTTP_OK:
            self._rejected(response, path, params)
            return None
        if response.headers.get("x-rate-limit-remaining") == "0":
            reset = _reset_at(response)
            if reset is not None:
                self._paused_until[endpoint] = reset
        body = response.json()
        if not isinstance(body, dict):
            raise _ServerError("the answer is not a JSON object")
        return body

    def _rejected(self, response: httpx.Response, path: str, params: dict[str, str]) -> None:
        """A 4xx other than 401 and 429: forbidden for good is fatal, a bad query is not."""
        detail = _detail(response)
        if response.status_code != HTTP_BAD_REQUEST and path.startswith("/2/tweets/search"):
            raise VenueError(f"X refused the search (HTTP {response.status_code}): {detail}")
        log.error(
            "x rejected a request; skipped",
            status=response.status_code,
            query=params.get("query"),
            path=path,
            detail=detail,
        )

    def _until_reset(self, response: httpx.Response) -> float | None:
        reset = _reset_at(response)
        return None if reset is None else max(0.0, reset - self.clock().timestamp())

    def _posts(self, body: dict[str, Any], handle: str | None) -> list[PostScraped]:
        users = (body.get("includes") or {}).get("users") or []
        usernames = {
            user["id"]: user["username"]
            for user in users
            if isinstance(user, dict) and isinstance(user.get("id"), str) and user.get("username")
        }
        posts = []
        for tweet in body.get("data") or []:
            post = self._post(tweet, handle, usernames)
            if post is not None:
                posts.append(post)
        return posts

    def _post(
        self, tweet: Any, handle: str | None, usernames: dict[str, str]
    ) -> PostScraped | None:
        if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
            log.warning("x answered a post without a string id; skipped")
            return None
        post_id, text = tweet["id"], str(tweet.get("text") or "")
        author = handle or usernames.get(tweet.get("author_id", "")) or tweet.get("author_id")
        metrics = tweet.get("public_metrics") or {}
        created = tweet.get("created_at")
        return PostScraped(
            source=SOURCE,
            post_id=post_id,
            author=str(author or "unknown"),
            text=text,
            language=tweet.get("lang"),
            created_at=datetime.fromisoformat(created) if created else self.clock(),
            url=f"https://x.com/{author or 'i'}/status/{post_id}",
            engagement=Engagement(
                likes=metrics.get("like_count", 0),
                reposts=metrics.get("retweet_count", 0),
                replies=metrics.get("reply_count", 0),
                quotes=metrics.get("quote_count", 0),
            ),
            cashtags=cashtags_in(text),
            symbols=symbols_in(text),
        )


def _keyword_query(keyword: str) -> str:
    """A watched keyword as a search: a phrase in quotes, a cashtag or word as is."""
    return f'"{keyword}"' if " " in keyword else keyword


def _reset_at(response: httpx.Response) -> float | None:
    value = response.headers.get("x-rate-limit-reset", "")
    return float(value) if value.strip().isdigit() else None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)[:200]
    return str(body)[:200]


class _ServerError(Exception):
    """X answered, but not usefully (5xx, or a body that is not an object)."""
