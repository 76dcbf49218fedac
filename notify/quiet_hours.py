"""Quiet hours: when a held delivery may go out, in the user's own time zone.

A user's quiet hours run from `start` (inclusive) to `end` (exclusive), local time, and
may wrap midnight (22:00-07:00). Deliveries that fall inside are held until `end`; the
web channel is never held (it only shows up when the user looks), nor is an alert of
severity ``critical`` (that is what the severity is for: the rule's author chose to be
woken up).

Daylight saving: `end` is read in the zone on the day it falls, so "07:00" stays 07:00
on the wall clock across a change. An `end` inside a spring-forward gap resolves as
`zoneinfo` does (the offset before the change), which lands within the hour of the gap.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aggregates.user import QuietHours


def quiet_until(quiet: QuietHours | None, now: datetime) -> datetime | None:
    """When the quiet hours around `now` end (UTC), or None if `now` is not in them."""
    if quiet is None:
        return None
    zone = ZoneInfo(quiet.timezone)
    local = now.astimezone(zone)
    moment = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= moment < quiet.end
        end_day = local.date()
    else:  # wraps midnight: 22:00-07:00 is inside from 22:00 on, and before 07:00
        inside = moment >= quiet.start or moment < quiet.end
        end_day = local.date() + timedelta(days=1 if moment >= quiet.start else 0)
    if not inside:
        return None
    end = datetime.combine(end_day, quiet.end, tzinfo=zone).astimezone(UTC)
    return end if end > now else None
