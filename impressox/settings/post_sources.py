"""Post sources: X, RSS and Atom feeds, JSON-lines import."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr

from impressox.settings.env import env_alias as _env


class PostSourcesSettings(BaseModel):
    """Post sources: X, RSS and Atom feeds, JSON-lines import."""

    x_bearer_token: SecretStr | None = Field(
        None, validation_alias=_env("x_bearer_token"),
        description="X API v2 app bearer token the x source sends (never logged).",
    )  # fmt: skip
    x_api_url: str = Field(
        "https://api.x.com", pattern=r"^https?://", validation_alias=_env("x_api_url"),
        description="X API root (the part before /2/...).",
    )  # fmt: skip
    x_queries: list[str] = Field(
        default_factory=list, validation_alias=_env("x_queries"),
        description="X recent-search queries the x source follows besides users' watched"
        ' keywords (JSON list, X query syntax, e.g. ["$SOL -is:retweet"]).',
    )  # fmt: skip
    x_accounts: list[str] = Field(
        default_factory=list, validation_alias=_env("x_accounts"),
        description="X handles whose timelines the x source reads besides users' watched"
        " accounts (JSON list).",
    )  # fmt: skip
    x_follow_watches: bool = Field(
        True, validation_alias=_env("x_follow_watches"),
        description="Also follow every account and keyword users watch (read from the"
        " watches' log); the rss source likewise follows watched feed URLs.",
    )  # fmt: skip
    x_poll_interval_s: float = Field(
        60.0, gt=0, validation_alias=_env("x_poll_interval_s"),
        description="Seconds between X polls; rate limits are honoured on top of this.",
    )  # fmt: skip
    x_max_pages: int = Field(
        5, ge=1, le=100, validation_alias=_env("x_max_pages"),
        description="Pages of up to 100 posts read per query and poll (older ones are left).",
    )  # fmt: skip
    rss_feeds: list[str] = Field(
        default_factory=list, validation_alias=_env("rss_feeds"),
        description="RSS or Atom feed URLs the rss source polls (JSON list).",
    )  # fmt: skip
    rss_poll_interval_s: float = Field(
        300.0, gt=0, validation_alias=_env("rss_poll_interval_s"),
        description="Seconds between polls of each feed (unchanged feeds cost a 304).",
    )  # fmt: skip
    posts_import_file: Path | None = Field(
        None, validation_alias=_env("posts_import_file"),
        description="JSON-lines posts the posts-import source appends (unset: the demo set).",
    )  # fmt: skip
