"""Importing posts from a JSON-lines file: backfills, fixtures and the demo set.

Each line is an object with the fields of `post.scraped`: ``post_id`` (a string: X ids
overflow a double, so a number is refused rather than rounded), ``author``, ``text``,
``created_at`` (ISO-8601, with an offset), and optionally ``source`` (default
``import``), ``language``, ``url``, ``engagement`` (likes, reposts, replies, quotes),
``cashtags`` and ``symbols`` (extracted from the text when absent, as scrapers do).

The whole file is checked before the first post is yielded, so a malformed file is
refused with its line number and nothing of it is appended. Importing a file twice
appends nothing the second time: post ids derive from (source, post id).

Without a file, the embedded demo set is imported: about thirty posts by fictional
accounts, written for this project.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from events.catalog import PostScraped
from sources.errors import ReplayFileError
from sources.posts.post import cashtags_in, symbols_in

DEMO_POSTS = Path(__file__).with_name("demo_posts.jsonl")
DEFAULT_SOURCE = "import"
CHUNK = 500
"""Posts per append."""


class PostsImport:
    """Posts from a JSON-lines file, as fast as Redis takes them."""

    name = "posts-import"

    def __init__(self, path: Path = DEMO_POSTS) -> None:
        self.path = path
        self.total: int | None = None

    async def open(self) -> None:
        """Check every line of the file; count the posts for the progress display."""
        self.total = await asyncio.to_thread(self._check_all)

    async def aclose(self) -> None:
        """The file is opened and closed per pass: nothing is held between them."""

    def _check_all(self) -> int:
        count = sum(1 for _ in self._posts())
        if count == 0:
            raise ReplayFileError(self.path, "no posts in the file")
        return count

    async def batches(self) -> AsyncGenerator[list[PostScraped], None]:
        batch: list[PostScraped] = []
        for post in self._posts():
            batch.append(post)
            if len(batch) == CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch

    def _posts(self) -> Iterator[PostScraped]:
        """Every line as a post, in file order; raises on the first bad one."""
        try:
            with self.path.open("rb") as file:
                for line, raw in enumerate(file, start=1):
                    if raw.strip():
                        yield self._post(raw, line)
        except OSError as error:
            raise ReplayFileError(self.path, f"cannot read: {error.strerror}") from None

    def _post(self, raw: bytes, line: int) -> PostScraped:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise ReplayFileError(self.path, f"not valid JSON: {error}", line=line) from None
        if not isinstance(record, dict):
            raise ReplayFileError(self.path, "expected a JSON object", line=line)
        return self._validated(record, line)

    def _validated(self, record: dict[str, Any], line: int) -> PostScraped:
        text = record.get("text")
        if isinstance(text, str):
            record.setdefault("cashtags", cashtags_in(text))
            record.setdefault("symbols", symbols_in(text))
        record.setdefault("source", DEFAULT_SOURCE)
        try:
            return PostScraped.model_validate(record)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "post"
            raise ReplayFileError(self.path, f"{where}: {first['msg']}", line=line) from None
