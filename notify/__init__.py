"""Notification delivery: alerts to web, Telegram, Discord and webhook channels.

Where to look:

- `handler`: the ``notify`` handler the runtime runs (``impressox worker notify``).
- `replies`: the ``agent-replies`` handler, the agent's replies to Telegram and Discord
  conversations (`reply_delivery`, cut to each platform's limit by `reply_parts`).
- `service`: one alert's way through its channels (and a channel test's, to its one
  channel); `delivery`: one channel's (rate limit, retries); `ledger`: why a
  redelivered alert is not sent twice; `holds`: quiet hours and rate limits without
  blocking a partition.
- One module per channel kind: `telegram_bot`, `discord_bot`, `discord_webhook`,
  `webhook` (and `senders.WebSender`); `rendering` builds their messages, `signing`
  signs (and verifies) webhook requests.

Guarantee: a message per (alert, channel) goes out at least once and, but for a crash
in the instant between the channel's answer and the ledger write, at most once; every
outcome is an event (``notification.sent`` / ``notification.failed``) in the
``notifications`` category.
"""
