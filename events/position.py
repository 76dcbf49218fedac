"""Stream positions: Redis stream entry ids as comparable values.

A Redis stream id is ``<milliseconds>-<sequence>``: its first half is the server's clock
when the entry was appended, which is what makes "read by time" possible without an index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

_MAX_SEQ = 2**64 - 1


@dataclass(frozen=True, order=True, slots=True)
class Position:
    """A position in one stream. Ordered like the stream itself."""

    ms: int
    seq: int = 0

    @classmethod
    def parse(cls, text: str | bytes) -> Position:
        """Parse ``"1732182312345-7"`` (or a bare millisecond count)."""
        raw = text.decode() if isinstance(text, bytes) else text
        ms, sep, seq = raw.partition("-")
        try:
            return cls(int(ms), int(seq) if sep else 0)
        except ValueError:
            raise ValueError(f"not a stream position: {raw!r} (expected <ms>-<seq>)") from None

    @classmethod
    def at_time(cls, moment: datetime) -> Position:
        """The first position a stream could hold at `moment`."""
        return cls(_to_ms(moment), 0)

    @classmethod
    def end_of_time(cls, moment: datetime) -> Position:
        """The last position a stream could hold at `moment` (inclusive bound)."""
        return cls(_to_ms(moment), _MAX_SEQ)

    @property
    def time(self) -> datetime:
        """When the entry was appended, by the Redis server's clock."""
        return datetime.fromtimestamp(self.ms / 1000, tz=UTC)

    def __str__(self) -> str:
        return f"{self.ms}-{self.seq}"


def _to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
