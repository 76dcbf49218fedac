"""Cutting a reply into chat messages: at the best boundary, within the limit as sent."""

from __future__ import annotations

from html import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify.reply_parts import (
    TELEGRAM_LIMIT,
    discord_bodies,
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
