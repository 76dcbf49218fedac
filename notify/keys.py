"""Every Redis key the notifier keeps besides streams, built in one place.

Per-alert state lives in the alert's partition (its hash tag), beside the streams the
runtime commits to, so one script can touch it together with them on a cluster. The
names contain a second colon after the tag, so they can never be a category's stream.

::

    ix:{p3}:notify:ledger:<alert event id>   outcome per channel of one alert (hash, expires)
    ix:{p3}:notify:held                      alert event ids held, by release time (sorted set)
    ix:{p3}:notify:held:entries              held alert event id -> its packed entry (hash)
    ix:ratelimit:notify:<user id>:<channel>  token bucket of one user's channel (hash)
"""

from __future__ import annotations

from uuid import UUID

from events.names import StreamNames

HANDLER = "notify"
"""The notify handler's name: its consumer group, dead letters and retry stream."""


class NotifyKeys:
    def __init__(self, names: StreamNames) -> None:
        self.names = names

    def ledger(self, tag: str, alert_event_id: UUID) -> str:
        return f"{self._base(tag)}:ledger:{alert_event_id}"

    def held(self, tag: str) -> str:
        return f"{self._base(tag)}:held"

    def held_entries(self, tag: str) -> str:
        return f"{self._base(tag)}:held:entries"

    def rate(self, user_id: UUID, channel_id: str) -> str:
        return f"{self.names.prefix}:ratelimit:notify:{user_id}:{channel_id}"

    def _base(self, tag: str) -> str:
        return f"{self.names.prefix}:{{{tag}}}:notify"
