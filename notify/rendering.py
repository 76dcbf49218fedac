"""Turning an alert into each channel's message: Telegram HTML, Discord embeds, JSON.

Everything that comes from a user or the outside (the rule's message, the subject,
compared values) is escaped for the channel's markup, so an alert saying ``<b>`` or
``@everyone`` is shown as written and never formats, links or pings anything:

- Telegram, HTML parse mode: ``&``, ``<`` and ``>`` become entities (the only three
  Telegram requires; quotes only matter inside attributes, which we never fill).
- Discord: markdown characters are escaped and ``allowed_mentions`` is empty, so no
  mention in the text notifies anyone.
- Webhooks: JSON, see `webhook_body` for the schema.

A channel test (`events.catalog.ChannelTestRequested`) is rendered as an alert would be
(`test_notice`), so its owner sees what their alerts will look like there; a webhook
tells it from an alert by its ``type``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from discord.utils import escape_markdown

from events.catalog import AlertTriggered, ChannelTestRequested

TELEGRAM_LIMIT = 4096
"""Characters of one Telegram message (after entities are parsed; we count before)."""
DISCORD_DESCRIPTION_LIMIT = 4096
DISCORD_FIELDS = 25
DISCORD_FIELD_VALUE_LIMIT = 1024
VALUES_SHOWN = 10
"""Compared values listed in a chat message; webhooks receive all of them."""
VALUE_CHARS = 100

SEVERITY_MARK = {"info": "🔹", "warning": "⚠️", "critical": "🚨"}
SEVERITY_COLOUR = {"info": 0x3498DB, "warning": 0xF1C40F, "critical": 0xE74C3C}


TEST_RULE_ID = UUID(int=0)
"""The rule id of a channel test's notice: no rule fired."""


@dataclass(frozen=True)
class Notice:
    """An alert to deliver, with the id of the event that carried it (and its type:
    ``alert.triggered``, or ``channel.test_requested`` for a test)."""

    alert_event_id: UUID
    alert: AlertTriggered
    event_type: str = AlertTriggered.event_type

    @property
    def is_test(self) -> bool:
        return self.event_type == ChannelTestRequested.event_type

    @property
    def title(self) -> str:
        return f"{self.alert.subject}: {self.alert.condition}"[:256]

    def values(self) -> list[tuple[str, str]]:
        """The compared values as short text, for chat messages."""
        return [
            (str(name)[:VALUE_CHARS], _short(value))
            for name, value in list(self.alert.values.items())[:VALUES_SHOWN]
        ]


def test_notice(event_id: UUID, request: ChannelTestRequested) -> Notice:
    """The notice of a channel test: an alert-shaped message that says it is a test."""
    alert = AlertTriggered(
        rule_id=TEST_RULE_ID,
        user_id=request.user_id,
        subject="Test message",
        condition="channel test",
        severity="info",
        message=f"This is a test from Impressox: alerts sent to your channel"
        f" '{request.channel_id}' arrive like this one.",
        trigger_event_id=event_id,
        triggered_at=request.requested_at,
        channels=(request.channel_id,),
    )
    return Notice(event_id, alert, ChannelTestRequested.event_type)


def telegram_html(notice: Notice) -> str:
    """The message for Telegram's HTML parse mode; a long one keeps the longest prefix of
    the alert's text that fits once escaped (found by bisection: escaping grows text
    unevenly)."""
    message = notice.alert.message
    text = _telegram(notice, message)
    if len(text) <= TELEGRAM_LIMIT:
        return text
    low, high = 0, len(message)
    while low < high:
        middle = (low + high + 1) // 2
        if len(_telegram(notice, message[:middle] + "…")) <= TELEGRAM_LIMIT:
            low = middle
        else:
            high = middle - 1
    return _telegram(notice, message[:low] + "…")


def _telegram(notice: Notice, message: str) -> str:
    alert = notice.alert
    lines = [
        f"{SEVERITY_MARK[alert.severity]} <b>{html.escape(alert.subject, quote=False)}</b>"
        f" · {html.escape(alert.condition, quote=False)}",
        html.escape(message, quote=False),
    ]
    lines += [
        f"<code>{html.escape(name, quote=False)}</code> = {html.escape(value, quote=False)}"
        for name, value in notice.values()
    ]
    return "\n".join(line for line in lines if line)


def discord_message(notice: Notice) -> dict[str, Any]:
    """A Discord message body (bot or webhook): one embed, mentions disabled."""
    alert = notice.alert
    fields = [
        {"name": name, "value": escape_markdown(value)[:DISCORD_FIELD_VALUE_LIMIT], "inline": True}
        for name, value in notice.values()[:DISCORD_FIELDS]
    ]
    embed = {
        "title": f"{SEVERITY_MARK[alert.severity]} {notice.title}"[:256],
        "description": escape_markdown(alert.message)[:DISCORD_DESCRIPTION_LIMIT],
        "color": SEVERITY_COLOUR[alert.severity],
        "fields": fields,
        "timestamp": alert.triggered_at.isoformat(),
        "footer": {"text": "channel test" if notice.is_test else f"rule {alert.rule_id}"},
    }
    link = alert.values.get("url")
    if isinstance(link, str) and link.startswith(("https://", "http://")):
        embed["url"] = link  # a post alert's title links to the post
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


def webhook_body(notice: Notice, delivery_id: UUID) -> bytes:
    """The JSON body POSTed to a user's webhook.

    ::

        {
          "delivery_id": "…",        same on every retry of this delivery: deduplicate on it
          "type": "alert.triggered", or "channel.test_requested" for a test its owner asked
                                     for (rule_id all zeros, subject "Test message")
          "alert": {
            "event_id": "…", "rule_id": "…", "user_id": "…",
            "subject": "BTC/USDT", "condition": "crosses_up", "severity": "warning",
            "message": "BTC crossed 100000", "values": {"price": 100012.5},
            "trigger_event_id": "…", "triggered_at": "2025-01-01T00:00:00+00:00"
          }
        }

    Keys may be added in later versions; receivers should ignore keys they do not know.
    """
    alert = notice.alert
    body = {
        "delivery_id": str(delivery_id),
        "type": notice.event_type,
        "alert": {
            "event_id": str(notice.alert_event_id),
            "rule_id": str(alert.rule_id),
            "user_id": str(alert.user_id),
            "subject": alert.subject,
            "condition": alert.condition,
            "severity": alert.severity,
            "message": alert.message,
            "values": alert.values,
            "trigger_event_id": str(alert.trigger_event_id),
            "triggered_at": alert.triggered_at.isoformat(),
        },
    }
    return orjson.dumps(body, default=str)


def _short(value: object) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"
