"""What catalog types share: their category, their partition key, common field types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from events.envelope import Payload

Symbol = Annotated[
    str,
    Field(
        pattern=r"^[A-Z0-9]{2,12}/[A-Z0-9]{2,12}$",
        description="BASE/QUOTE in capitals, e.g. BTC/USDT",
    ),
]
Severity = Literal["info", "warning", "critical"]
Finite = Annotated[float, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]
"""A non-negative integer a read model can store: BSON integers stop at 64 bits, and an
event a projection cannot write would be a poison event for every rebuild."""


class CatalogPayload(Payload):
    """A payload that knows its category and the key that picks its partition."""

    category: ClassVar[str] = ""
    ingestable: ClassVar[bool] = False
    """Whether an ingest-scoped API key may append it from outside."""

    def partition_key(self) -> str:
        """The event key: events with one key share a partition, so they stay in order."""
        raise NotImplementedError

    def refusals_at(self, now: datetime) -> list[tuple[str, str]]:
        """(field, why) of what makes this payload unfit to enter now, beyond its schema.

        Checked where events come in from outside (ingest, `events append`), never when a
        stored event is read back: what was fit when it entered stays readable."""
        return []
