"""Posts: something someone published on a social network or a news feed."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.catalog.common import CatalogPayload, Count
from events.registry import event_type


class Engagement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    likes: Count = 0
    reposts: Count = 0
    replies: Count = 0
    quotes: Count = 0

    @property
    def total(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


@event_type("post.scraped")
class PostScraped(CatalogPayload):
    """A post as a source saw it. Ids are strings: X ids overflow a double."""

    category: ClassVar[str] = "posts"
    ingestable: ClassVar[bool] = True

    source: str = Field(pattern=r"^[a-z0-9_.-]{1,32}$", description="x, rss, import, ...")
    post_id: str = Field(min_length=1, max_length=128)
    author: str = Field(min_length=1, max_length=128)
    text: str = Field(max_length=20_000)
    language: str | None = Field(default=None, max_length=16)
    created_at: AwareDatetime
    url: str | None = Field(default=None, max_length=2048)
    engagement: Engagement = Field(default_factory=Engagement)
    cashtags: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()

    def partition_key(self) -> str:
        return f"{self.source}:{self.author}"
