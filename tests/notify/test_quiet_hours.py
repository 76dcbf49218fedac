"""Quiet hours in the user's zone, across midnight and daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from aggregates.user import QuietHours
from notify.quiet_hours import quiet_until

NIGHT = QuietHours(start=time(22), end=time(7), timezone="Europe/Paris")
LUNCH = QuietHours(start=time(12), end=time(14), timezone="America/New_York")


@pytest.mark.parametrize(
    ("quiet", "now", "until"),
    [
        (NIGHT, datetime(2025, 1, 15, 22, 30, tzinfo=UTC), datetime(2025, 1, 16, 6, tzinfo=UTC)),
        (NIGHT, datetime(2025, 1, 16, 3, 0, tzinfo=UTC), datetime(2025, 1, 16, 6, tzinfo=UTC)),
        (NIGHT, datetime(2025, 1, 16, 6, 0, tzinfo=UTC), None),  # 07:00 Paris: the end is out
        (NIGHT, datetime(2025, 1, 15, 20, 59, tzinfo=UTC), None),  # 21:59 Paris
        (NIGHT, datetime(2025, 1, 15, 21, 0, tzinfo=UTC), datetime(2025, 1, 16, 6, tzinfo=UTC)),
        # summer time: 07:00 in Paris is 05:00 UTC
        (NIGHT, datetime(2025, 7, 1, 1, 0, tzinfo=UTC), datetime(2025, 7, 1, 5, tzinfo=UTC)),
        # the night the clocks go forward (30 March 2025, 02:00 -> 03:00 in Paris)
        (NIGHT, datetime(2025, 3, 29, 23, 0, tzinfo=UTC), datetime(2025, 3, 30, 5, tzinfo=UTC)),
        (LUNCH, datetime(2025, 1, 15, 17, 30, tzinfo=UTC), datetime(2025, 1, 15, 19, tzinfo=UTC)),
        (LUNCH, datetime(2025, 1, 15, 3, 0, tzinfo=UTC), None),
        (None, datetime(2025, 1, 15, 23, 0, tzinfo=UTC), None),
    ],
)
def test_quiet_until(quiet: QuietHours | None, now: datetime, until: datetime | None) -> None:
    assert quiet_until(quiet, now) == until
