"""Test data and a local OpenAI-compatible embeddings server for the knowledge base tests."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from events.catalog.posts import Engagement, PostScraped
from events.envelope import Event
from knowledge.hashing import HashingEmbeddings

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
API_KEY = "sk-test-knowledge"


def post(
    text: str,
    *,
    author: str = "alice",
    source: str = "x",
    hours: int = 0,
    likes: int = 0,
    symbols: tuple[str, ...] = (),
    cashtags: tuple[str, ...] = (),
) -> Event:
    """A `post.scraped` event, `hours` after START."""
    payload = PostScraped(
        source=source,
        post_id=f"{author}-{hours}-{len(text)}",
        author=author,
        text=text,
        created_at=START + timedelta(hours=hours),
        engagement=Engagement(likes=likes),
        symbols=symbols,
        cashtags=cashtags,
    )
    return Event(key=payload.partition_key(), payload=payload)


@dataclass
class EmbeddingsServer:
    """``POST /v1/embeddings`` as OpenAI answers it, vectors made by feature hashing.

    Vectors are scaled by 3 (OpenAI's are unit length; the client must not rely on it),
    data items come back in reverse order with their ``index`` (the client must sort),
    and `failures` queued statuses are answered first, one per request.
    """

    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    url: str = ""

    async def _embeddings(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        body = await request.json()
        self.requests.append(body)
        if self.failures:
            status = self.failures.pop(0)
            return web.json_response({"error": {"message": "scripted"}}, status=status)
        texts = body["input"]
        dimension = int(body.get("dimensions", 1536))
        hashing = HashingEmbeddings(dimension)
        data = [
            {"object": "embedding", "index": index, "embedding": [3 * x for x in vector]}
            for index, vector in enumerate(hashing.embed_now(texts))
        ]
        return web.json_response(
            {
                "object": "list",
                "data": list(reversed(data)),
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        )


@asynccontextmanager
async def embeddings_server() -> AsyncIterator[EmbeddingsServer]:
    """An `EmbeddingsServer` on a free port of 127.0.0.1; its url is the ``/v1`` root."""
    server = EmbeddingsServer()
    app = web.Application()
    app.router.add_post("/v1/embeddings", server._embeddings)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    try:
        yield server
    finally:
        await runner.cleanup()


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )
