"""Cutting a reply into chat messages: at the best boundary, within the limit as sent."""

from __future__ import annotations

from html import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify.reply_parts import (
    DISCORD_LIMIT,
    TELEGRAM_LIMIT,
    discord_bodies,
    discord_message_of,
    escape_telegram,
    split_text,
    telegram_parts,
)


def test_a_short_reply_is_one_message_and_an_empty_one_none() -> None:
    assert split_text("  hello  ", 10) == ["hello"]
    assert split_text(" \n\n ", 10) == []


def test_paragraphs_then_lines_then_words_then_anywhere() -> None:
    assert split_text("aaaa\n\nbbbb\n\ncccc", 10) == ["aaaa\n\nbbbb", "cccc"]
    assert split_text("aaaa\nbbbb\ncccc", 10) == ["aaaa\nbbbb", "cccc"]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("abcdefghijkl", 5) == ["abcde", "fghij", "kl"]


def test_telegram_counts_the_escaped_text_and_never_splits_an_entity() -> None:
    text = "&" * (TELEGRAM_LIMIT // 5 + 1)  # each & is 5 characters once escaped
    parts = telegram_parts(text)
    assert len(parts) == 2
    assert all(len(escape_telegram(part)) <= TELEGRAM_LIMIT for part in parts)
    assert "".join(parts) == text
    assert escape_telegram("<b>x</b> & 'y'") == "&lt;b&gt;x&lt;/b&gt; &amp; 'y'"


def test_discord_bodies_ping_no_one() -> None:
    [body] = discord_bodies("@everyone look")
    assert body == {"content": "@everyone look", "allowed_mentions": {"parse": []}}


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_text("x", 0)


@given(st.text(alphabet="ab <&>\n", max_size=400), st.integers(min_value=5, max_value=60))
def test_parts_fit_and_keep_every_word(text: str, limit: int) -> None:
    parts = split_text(text, limit, lambda part: len(escape(part, quote=False)))
    assert all(len(escape(part, quote=False)) <= limit for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_a_long_discord_reply_answers_the_message_with_its_first_part_only() -> None:
    text = "\n\n".join(["word " * 300] * 3)  # 4,500 characters: three messages
    bodies = discord_bodies(text, answering=discord_message_of("dc:42:1300000000000000001"))
    assert len(bodies) == 3
    assert all(len(body["content"]) <= DISCORD_LIMIT for body in bodies)
    assert bodies[0]["message_reference"] == {
        "message_id": "1300000000000000001",
        "fail_if_not_exists": False,
    }
    assert all("message_reference" not in body for body in bodies[1:])


def test_only_a_discord_message_id_names_a_message_to_answer() -> None:
    assert discord_message_of("dc:42:7") == "7"
    assert discord_message_of("dci:42:7") is None  # a slash command: nothing to reply to
    assert discord_message_of("tg:42:7") is None
    assert discord_message_of("dc:42:") is None
