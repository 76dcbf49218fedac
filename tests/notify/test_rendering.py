"""What each channel's message looks like, and that user text never becomes markup."""

from __future__ import annotations

import json
from uuid import uuid4

from notify.rendering import TELEGRAM_LIMIT, discord_message, telegram_html, webhook_body
from tests.notify.support import notice


def test_telegram_escapes_the_three_html_specials() -> None:
    text = telegram_html(notice(message='a < b && c > "d"', values={"x<y": "1&2"}))
    assert 'a &lt; b &amp;&amp; c &gt; "d"' in text
    assert "<code>x&lt;y</code> = 1&amp;2" in text
    assert text.startswith("⚠️ <b>BTC/USDT</b> · crosses_up\n")


def test_a_long_telegram_message_is_cut_to_fit_after_escaping() -> None:
    text = telegram_html(notice(message="&" * 4000))
    assert len(text) <= TELEGRAM_LIMIT
    assert text.count("&amp;") > 700
    assert "…" in text


def test_discord_escapes_markdown_and_pings_no_one() -> None:
    body = discord_message(notice(message="**loud** @everyone", severity="critical"))
    (embed,) = body["embeds"]
    assert embed["description"] == r"\*\*loud\*\* @everyone"
    assert body["allowed_mentions"] == {"parse": []}
    assert embed["color"] == 0xE74C3C
    assert embed["title"].startswith("🚨 ")


def test_the_webhook_body_carries_the_whole_alert() -> None:
    delivery = uuid4()
    sent = notice(values={"price": 1.5, "nested": {"a": [1, 2]}})
    body = json.loads(webhook_body(sent, delivery))
    assert body["delivery_id"] == str(delivery)
    assert body["type"] == "alert.triggered"
    assert body["alert"]["event_id"] == str(sent.alert_event_id)
    assert body["alert"]["values"] == {"price": 1.5, "nested": {"a": [1, 2]}}
    assert body["alert"]["triggered_at"] == "2025-01-01T00:00:00+00:00"
