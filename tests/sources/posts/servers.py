"""Local stand-ins for X API v2 and for news feeds, served by `tests.sources.servers.serving`.

They speak what our sources use of the real protocols: X's paths, parameters, JSON
shapes, ``meta.next_token``, ``since_id``, rate-limit headers and error bodies; feeds as
RSS 2.0 or Atom with ETag validators. Behaviour is scripted per test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

BASE_ID = 1_850_000_000_000_000_000
"""Real X ids are this large: beyond 2**53, where a double would round them."""


def tweet(number: int, author: str, text: str, *, likes: int = 0) -> dict[str, Any]:
    """One post as X stores it; ids grow with `number`, as X's do over time."""
    return {
        "id": str(BASE_ID + number),
        "text": text,
        "author": author,
        "created_at": f"2026-11-01T10:{number % 60:02d}:00.000Z",
        "lang": "en",
        "public_metrics": {
            "retweet_count": 1,
            "reply_count": 2,
            "like_count": likes,
            "quote_count": 3,
            "bookmark_count": 0,
            "impression_count": 100,
        },
    }


@dataclass
class FakeX:
    """``/2/tweets/search/recent``, ``/2/users/by/username/:username``, ``/2/users/:id/tweets``."""

    token: str = "x-test-token"
    tweets: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)
    """Username -> user id."""
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    """(status, headers) to answer the next post requests with, in order."""
    exhaust_after: int | None = None
    """Answer with ``x-rate-limit-remaining: 0`` once this many post requests were answered."""
    reset_at: int = 1_767_225_900
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """(path, query) of every request that was authorised."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/2/tweets/search/recent", self._search)
        app.router.add_get("/2/users/by/username/{username}", self._user)
        app.router.add_get("/2/users/{id}/tweets", self._timeline)
        return app

    def add(self, number: int, author: str, text: str, *, likes: int = 0) -> None:
        self.users.setdefault(author, str(1000 + len(self.users)))
        self.tweets.append(tweet(number, author, text, likes=likes))

    def _refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            body = {"title": "Unauthorized", "type": "about:blank", "status": 401}
            return web.json_response({**body, "detail": "Unauthorized"}, status=401)
        self.requests.append((request.path, dict(request.query)))
        return None

    async def _user(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        username = request.match_info["username"]
        if username not in self.users:
            detail = f"Could not find user with username: [{username}]."
            return web.json_response(
                {"errors": [{"value": username, "detail": detail, "title": "Not Found Error"}]}
            )
        user = {"id": self.users[username], "name": username.title(), "username": username}
        return web.json_response({"data": user})

    async def _search(self, request: web.Request) -> web.Response:
        refused = self._refused(request) or self._scripted()
        if refused is not None:
            return refused
        query = request.query["query"].replace('"', "").lower()
        if query.startswith("(bad"):
            error = {"message": "There were errors processing your request"}
            return web.json_response({"errors": [error], "title": "Invalid Request"}, status=400)
        found = [t for t in self.tweets if query in t["text"].lower()]
        return self._page(request, found, "next_token", expand=True)

    async def _timeline(self, request: web.Request) -> web.Response:
        refused = self._refused(request) or self._scripted()
        if refused is not None:
            return refused
        by_id = {user_id: name for name, user_id in self.users.items()}
        author = by_id.get(request.match_info["id"])
        found = [t for t in self.tweets if t["author"] == author]
        return self._page(request, found, "pagination_token", expand=False)

    def _scripted(self) -> web.Response | None:
        if not self.failures:
            return None
        status, headers = self.failures.pop(0)
        body = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": status}
        return web.json_response(body, status=status, headers=headers)

    def _page(
        self, request: web.Request, found: list[dict[str, Any]], token_param: str, *, expand: bool
    ) -> web.Response:
        since = request.query.get("since_id")
        newest_first = sorted(found, key=lambda t: int(t["id"]), reverse=True)
        if since is not None:
            newest_first = [t for t in newest_first if int(t["id"]) > int(since)]
        size = int(request.query.get("max_results", "10"))
        offset = int(request.query.get(token_param, "0") or 0)
        page = newest_first[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if offset + size < len(newest_first):
            meta["next_token"] = str(offset + size)
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [self._public(t) for t in page]
        if page and expand:
            authors = sorted({t["author"] for t in page})
            users = [{"id": self.users[a], "name": a.title(), "username": a} for a in authors]
            body["includes"] = {"users": users}
        answered = sum(1 for path, _ in self.requests if "/tweets" in path)
        headers = {"x-rate-limit-limit": "450", "x-rate-limit-reset": str(self.reset_at)}
        spent = self.exhaust_after is not None and answered >= self.exhaust_after
        headers["x-rate-limit-remaining"] = "0" if spent else "449"
        return web.json_response(body, headers=headers)

    def _public(self, stored: dict[str, Any]) -> dict[str, Any]:
        public = {k: v for k, v in stored.items() if k != "author"}
        public["author_id"] = self.users[stored["author"]]
        return public


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Harbor Ledger News</title><link>https://news.example/</link>
<description>Fictional crypto news</description><language>en-us</language>
{items}
</channel></rss>"""

RSS_ITEM = """<item><title>{title}</title><link>https://news.example/{number}</link>
<guid isPermaLink="false">news-{number}</guid>
<description>{summary}</description>
<pubDate>Sun, 01 Nov 2026 10:{number:02d}:00 GMT</pubDate></item>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Fern Research</title>
<id>urn:uuid:fern-research</id><updated>2026-11-01T12:00:00Z</updated>
<entry><title>$ETH staking report</title><id>urn:uuid:fern-1</id>
<link href="https://fern.example/reports/1"/><author><name>delta_fern</name></author>
<updated>2026-11-01T12:00:00Z</updated><summary>Yields fell on ETH/USDT flows.</summary></entry>
</feed>"""


@dataclass
class FakeFeeds:
    """An RSS 2.0 feed at ``/rss.xml`` (with an ETag) and an Atom feed at ``/atom.xml``."""

    items: list[tuple[int, str, str]] = field(default_factory=list)
    """(number, title, summary as HTML) of each RSS item."""
    not_modified: int = 0
    """How many requests were answered 304."""
    paths: list[str] = field(default_factory=list)
    """The path of every request answered, in order."""

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/redirect.xml", self._redirect)
        app.router.add_get("/rss.xml", self._rss)
        app.router.add_get("/atom.xml", self._atom)
        app.router.add_get("/broken.xml", self._broken)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.paths.append(request.path)
        return await handler(request)

    async def _redirect(self, request: web.Request) -> web.Response:
        """To the RSS feed by another spelling of this host (``?to=`` its base URL)."""
        raise web.HTTPFound(f"{request.query['to']}/rss.xml")

    def _etag(self) -> str:
        return f'"v{len(self.items)}"'

    async def _rss(self, request: web.Request) -> web.Response:
        if request.headers.get("if-none-match") == self._etag():
            self.not_modified += 1
            return web.Response(status=304)
        items = "\n".join(
            RSS_ITEM.format(number=number, title=escape(title), summary=escape(f"<p>{summary}</p>"))
            for number, title, summary in self.items
        )
        return web.Response(
            text=RSS.format(items=items),
            content_type="application/rss+xml",
            headers={"etag": self._etag()},
        )

    async def _atom(self, request: web.Request) -> web.Response:
        return web.Response(text=ATOM, content_type="application/atom+xml")

    async def _broken(self, request: web.Request) -> web.Response:
        return web.Response(text="<html><body>Moved</body>", content_type="text/html")
