"""Posts as sources scraped them, for "what is X saying about SOL this week".

One document per post (``<source>:<post_id>``), written once: the first scrape of a post
is kept. Cashtags are also kept normalised (``$sol`` -> ``SOL``) in `tickers`, so one
query finds a coin however people spell its tag.
"""

from __future__ import annotations

from typing import ClassVar

from pymongo import IndexModel

from events.catalog import PostScraped
from events.envelope import RecordedEvent
from projections.model import Document, Projection
from projections.readmodels.indexes import paging_index
from projections.registry import read_model


def ticker(cashtag: str) -> str:
    """A cashtag as one spelling: no leading ``$``, capitals."""
    return cashtag.removeprefix("$").upper()


def post_id(post: PostScraped) -> str:
    return f"{post.source}:{post.post_id}"


@read_model()
class Posts(Projection):
    name: ClassVar[str] = "posts"
    categories: ClassVar[tuple[str, ...]] = ("posts",)
    types: ClassVar[frozenset[str] | None] = frozenset({PostScraped.event_type})
    insert_only: ClassVar[bool] = True
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        paging_index("created_at"),
        paging_index("created_at", "symbols"),
        paging_index("created_at", "tickers"),
        paging_index("created_at", "author"),
        paging_index("created_at", "source"),
    )

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        return (post_id(_post_of(recorded)),)

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        post = _post_of(recorded)
        return {
            **post.model_dump(mode="python"),
            "cashtags": list(post.cashtags),
            "symbols": list(post.symbols),
            "tickers": sorted({ticker(tag) for tag in post.cashtags}),
            "engagement_total": post.engagement.total,
            "scraped_at": recorded.event.occurred_at,
        }


def _post_of(recorded: RecordedEvent) -> PostScraped:
    post = recorded.event.payload
    if not isinstance(post, PostScraped):
        raise TypeError(f"expected a post.scraped, got {recorded.event.type}")
    return post
