"""How domain events become stored events: our envelope's typed payloads.

The library's default mapper stores a Python class path as the topic and pickles-like
state; ours stores the registered type name (``alert_rule.paused``) as the topic and
the event's JSON as the state, with its schema version. Old versions are lifted by the
same upcasters handlers use. A cipher or compressor, when configured, still applies.
"""

from __future__ import annotations

from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from pydantic import ValidationError

from aggregates.model import DomainEvent
from events.errors import ImpressoxError
from events.registry import REGISTRY
from events.stored_events import EnvelopeStoredEvent


class EnvelopeMapper(Mapper[UUID]):
    """Maps registered pydantic events to and from stored events."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        if not isinstance(domain_event, DomainEvent) or not type(domain_event).event_type:
            msg = f"{type(domain_event).__qualname__} is not a registered domain event type"
            raise TypeError(msg)
        event_class = type(domain_event)
        state = domain_event.__pydantic_serializer__.to_json(domain_event)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return EnvelopeStoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=event_class.event_type,
            state=state,
            schema_version=event_class.schema_version,
            occurred_at=domain_event.timestamp,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        state = stored_event.state
        try:
            if self.cipher:
                state = self.cipher.decrypt(state)
            if self.compressor:
                state = self.compressor.decompress(state)
            model = REGISTRY.model(stored_event.topic)
            stored_version = getattr(stored_event, "schema_version", model.schema_version)
            if stored_version == model.schema_version:
                event = model.model_validate_json(state)
            else:
                lifted = REGISTRY.upcast(stored_event.topic, stored_version, orjson.loads(state))
                event = model.model_validate(lifted)
        except (ValidationError, ImpressoxError, ValueError) as error:
            msg = (
                f"cannot read {stored_event.topic!r} of {stored_event.originator_id}"
                f" v{stored_event.originator_version}: {error}"
            )
            raise MapperDeserialisationError(msg) from error
        return event  # type: ignore[return-value]
