"""The outcomes of one try at delivering one subject (an alert to its channels, an agent
reply in its parts), kept through the ledger so that a delivery goes out once.

Each delivery has a field (a channel id, a reply part). Before sending, `settled` says
whether an earlier try settled it; after, `record` (sent, or refused for good) or
`give_up` (retries ran out in this try) writes the outcome to the ledger and keeps its
event; `settle` maps a send's result to those (the one mapping both delivery services
use); `finish` turns the try's events into the handler's outputs, or, when something
was given up, appends them at once and dead-letters the subject.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from events.catalog import NotificationFailed, NotificationSent
from events.envelope import Event, RecordedEvent
from events.store import EventStore
from handlers.declaration import Output
from notify.delivery import Failed, Sent
from notify.errors import DeliveryGaveUpError
from notify.ledger import Ledger, delivery_id, give_up_field, give_up_id

CATEGORY = NotificationSent.category
ERROR_LIMIT = 2000
"""Characters of a failure's reason kept in its event."""


@dataclass(frozen=True)
class Delivery:
    """What one delivery is, as its `notification.sent` or `.failed` event says: to whom,
    on which channel, about which subject, with which title and text."""

    user_id: UUID
    channel_id: str
    channel_kind: str
    subject_event_id: UUID
    title: str
    text: str

    def sent(self, result: Sent, at: datetime) -> NotificationSent:
        receipt = result.receipt
        return NotificationSent(
            **self._common(result.attempts, at),
            status_code=receipt.status_code,
            response=receipt.response,
            message_id=receipt.message_id,
        )

    def failed(
        self,
        error: str,
        *,
        attempts: int,
        at: datetime,
        status_code: int | None = None,
        dead_lettered: bool = False,
    ) -> NotificationFailed:
        return NotificationFailed(
            **self._common(attempts, at),
            status_code=status_code,
            error=error[:ERROR_LIMIT],
            dead_lettered=dead_lettered,
        )

    def _common(self, attempts: int, at: datetime) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "channel_id": self.channel_id,
            "channel_kind": self.channel_kind,
            "subject_event_id": self.subject_event_id,
            "title": self.title,
            "text": self.text,
            "attempts": attempts,
            "at": at,
        }


@dataclass
class Outcomes:
    """One try's deliveries of the subject `recorded` announced, in partition `tag`."""

    ledger: Ledger
    recorded: RecordedEvent
    tag: str
    subject_id: UUID
    outputs: list[Event] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)

    async def settled(self, field: str) -> bool | None:
        """Whether an earlier try settled this delivery: True if it went out (or its
        outcome was committed), False if it failed for good or was given up in this try,
        None if it is still to do. An outcome found is emitted again (same event id)."""
        done = await self.ledger.outcome(self.tag, self.subject_id, field)
        if done is not None:
            self.outputs.append(done)
            return isinstance(done.payload, NotificationSent)
        if await self.ledger.committed(self.tag, delivery_id(self.subject_id, field)):
            return True
        try_field = give_up_field(field, self.recorded)
        given_up = await self.ledger.outcome(self.tag, self.subject_id, try_field)
        if given_up is not None:
            self.outputs.append(given_up)
            self.given_up.append(field)
            return False
        return None

    async def record(self, field: str, payload: NotificationSent | NotificationFailed) -> None:
        """The delivery's final outcome, under its idempotency key."""
        event_id = delivery_id(self.subject_id, field)
        await self._keep(field, event_id, payload)

    async def give_up(self, field: str, payload: NotificationFailed) -> None:
        """Retries ran out in this try: an operator's retry of the dead letter tries again."""
        event_id = give_up_id(self.subject_id, field, self.recorded)
        await self._keep(give_up_field(field, self.recorded), event_id, payload)
        self.given_up.append(field)

    async def settle(
        self,
        field: str,
        delivery: Delivery,
        result: Sent | Failed,
        at: datetime,
        *,
        dead_letters: bool = True,
    ) -> None:
        """Keep what a send came to: sent, refused for good, or given up in this try
        (which dead-letters the subject only if it `dead_letters`: a channel test does
        not)."""
        if isinstance(result, Sent):
            await self.record(field, delivery.sent(result, at))
            return
        given_up = result.gave_up and dead_letters
        failure = delivery.failed(
            result.reason,
            attempts=result.attempts,
            at=at,
            status_code=result.error.status_code,
            dead_lettered=given_up,
        )
        if given_up:
            await self.give_up(field, failure)
        else:
            await self.record(field, failure)

    async def finish(self, store: EventStore, gave_up: Callable[[str], str]) -> list[Output]:
        """The try's outcomes as outputs; with a delivery given up, they are appended now
        and DeliveryGaveUpError (`gave_up` of the fields given up) dead-letters the subject."""
        if self.given_up:
            stream = store.names.stream(self.tag, CATEGORY)
            await store.append_to_stream(stream, self.outputs, expected_version=None)
            raise DeliveryGaveUpError(gave_up(", ".join(self.given_up)))
        return [Output(CATEGORY, output) for output in self.outputs]

    async def _keep(
        self, ledger_field: str, event_id: UUID, payload: NotificationSent | NotificationFailed
    ) -> None:
        event = self.recorded.event.caused(payload, key=payload.partition_key(), event_id=event_id)
        await self.ledger.record(self.tag, self.subject_id, ledger_field, event)
        self.outputs.append(event)
