"""Post events: stable ids from (source, post id), cashtags and symbols from the text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.catalog import PostScraped
from sources.posts.post import cashtags_in, post_event, post_event_id, symbols_in


@pytest.mark.parametrize(
    ("text", "cashtags", "symbols"),
    [
        ("$btc and $ETH, again $Btc", ("BTC", "ETH"), ("BTC/USDT", "ETH/USDT")),
        ("costs $100 or US$5, a$b", (), ()),
        ("ETH/BTC ratio and $SOL", ("SOL",), ("ETH/BTC", "SOL/USDT")),
        ("the BTC/USDT pair; $BTC", ("BTC",), ("BTC/USDT",)),
        ("no tags here", (), ()),
    ],
)
def test_cashtags_and_symbols_are_read_from_the_text(
    text: str, cashtags: tuple[str, ...], symbols: tuple[str, ...]
) -> None:
    assert cashtags_in(text) == cashtags
    assert symbols_in(text) == symbols


def test_the_event_id_is_the_post_and_the_key_its_author() -> None:
    post = PostScraped(
        source="x",
        post_id="1850000000000000001",
        author="ledgerlark",
        text="gm",
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    event = post_event(post)
    assert event.event_id == post_event_id("x", "1850000000000000001")
    assert event.event_id == post_event(post.model_copy(update={"text": "edited"})).event_id
    assert event.event_id != post_event_id("rss", "1850000000000000001")
    assert event.event_id != post_event_id("x", "1850000000000000002")
    assert event.key == "x:ledgerlark"
