"""Importing posts from JSON lines: the demo set, and refusing a malformed file whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from events.store import EventStore
from sources.errors import ReplayFileError
from sources.posts.jsonl_import import DEMO_POSTS, PostsImport
from tests.sources.posts.support import stored_posts, take

GOOD = '{"post_id": "1850000000000000123", "author": "a", "text": "$BTC", "created_at": "2026-11-01T10:00:00Z"}'  # noqa: E501


async def test_the_demo_set_ships_thirty_fictional_posts_about_tracked_coins() -> None:
    posts = await take(PostsImport(), 1)
    assert len(posts) == 30
    assert {post.source for post in posts} == {"demo"}
    assert len({post.post_id for post in posts}) == 30
    assert {symbol for post in posts for symbol in post.symbols} == {
        "BTC/USDT",
        "ETH/USDT",
        "SOL/USDT",
    }
    assert all(post.url and ".invalid/" in post.url for post in posts)


async def test_a_file_keeps_ids_as_written_and_extracts_cashtags(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text(GOOD + "\n\n")
    [post] = await take(PostsImport(path), 1)
    assert post.post_id == "1850000000000000123"
    assert (post.source, post.cashtags, post.symbols) == ("import", ("BTC",), ("BTC/USDT",))


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ("[1, 2]", "line 2: expected a JSON object"),
        (GOOD.replace('"1850000000000000123"', "1850000000000000123"), "line 2: post_id: Input"),
        (GOOD.replace("2026-11-01T10:00:00Z", "yesterday"), "line 2: created_at: Input"),
        (GOOD.replace('"author": "a", ', ""), "line 2: author: Field required"),
    ],
)
async def test_a_malformed_file_is_refused_with_its_line_and_nothing_is_read(
    tmp_path: Path, store: EventStore, bad_line: str, message: str
) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text(f"{GOOD}\n{bad_line}\n{GOOD}\n")
    source = PostsImport(path)
    with pytest.raises(ReplayFileError) as refusal:
        await source.open()
    assert message in str(refusal.value)
    assert refusal.value.line == 2
    assert await stored_posts(store) == []


async def test_a_missing_or_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReplayFileError, match="cannot read"):
        await PostsImport(tmp_path / "nope.jsonl").open()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(ReplayFileError, match="no posts"):
        await PostsImport(empty).open()


def test_the_demo_set_is_packaged() -> None:
    assert DEMO_POSTS.is_file()
    assert DEMO_POSTS.parent.name == "posts"
