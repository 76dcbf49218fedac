"""Memory: the facts each user stated to the agent, remembered across conversations."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from aggregates.errors import NotFoundError
from aggregates.memory import Fact, FactText, Memory, Provenance, memory_id, stated
from aggregates.services.base import Service
from aggregates.validation import validated_value


@dataclass(frozen=True)
class Remembered:
    """What `remember` did: the fact as recorded (or as recorded before), whether it is
    new, and the fact it superseded."""

    fact: Fact
    new: bool
    replaced: Fact | None = None


class Memories(Service[Memory]):
    """Users' memories, opened on their first fact."""

    name = "memory"
    kind = "memory"
    aggregate_class = Memory
    snapshot_every = 50

    def remember(
        self,
        user_id: UUID,
        text: str,
        *,
        conversation_id: UUID | None = None,
        message_id: str | None = None,
    ) -> Remembered:
        """Record what the user stated.

        Said in a conversation, the fact keeps the conversation and message as its
        source, and the same statement of the same message (a redelivered turn) is
        recorded once: the second time, the earlier fact comes back, not new.
        """
        checked: str = validated_value(FactText, text, field="fact")
        source = None
        if conversation_id is not None and message_id is not None:
            source = Provenance(conversation_id=conversation_id, message_id=message_id)

        def record() -> Remembered:
            memory = self._open(user_id)
            fact = stated(user_id, checked, source)
            before = list(memory.facts)
            recorded = memory.record(fact)
            if recorded is None:
                return Remembered(memory.fact(fact.fact_id) or fact, new=False)
            replaced = next((f for f in before if f.fact_id == recorded.replaces), None)
            self.commit(memory)
            return Remembered(recorded, new=True, replaced=replaced)

        return self.retrying(record)

    def forget(self, user_id: UUID, fact_id: str) -> Fact:
        """Forget one fact by its id; NotFoundError if there is none."""

        def forget() -> Fact:
            memory = self._existing(user_id)
            fact = memory.forget(fact_id)
            self.commit(memory)
            return fact

        return self.retrying(forget)

    def forget_about(self, user_id: UUID, description: str) -> list[Fact]:
        """Forget the facts `description` points at (an id, "I hold ETH", "risk
        tolerance"): the facts forgotten, or NotFoundError if none matches."""

        def forget() -> list[Fact]:
            memory = self._existing(user_id)
            matching = memory.about(description)
            if not matching:
                raise NotFoundError(f"nothing remembered matches {description.strip()!r}")
            for fact in matching:
                memory.forget(fact.fact_id)
            self.commit(memory)
            return matching

        return self.retrying(forget)

    def forget_all(self, user_id: UUID) -> list[Fact]:
        """Forget every fact of the user: those forgotten (none if nothing was told)."""

        def forget() -> list[Fact]:
            try:
                memory = self._existing(user_id)
            except NotFoundError:
                return []
            facts = list(memory.facts)
            for fact in facts:
                memory.forget(fact.fact_id)
            if facts:
                self.commit(memory)
            return facts

        return self.retrying(forget)

    def facts(self, user_id: UUID) -> list[Fact]:
        """The user's facts, oldest first (none before the first)."""
        try:
            return list(self._existing(user_id).facts)
        except NotFoundError:
            return []

    def _existing(self, user_id: UUID) -> Memory:
        try:
            memory: Memory = self.load(memory_id(user_id))
        except NotFoundError:
            raise NotFoundError("nothing is remembered about this user yet") from None
        return memory

    def _open(self, user_id: UUID) -> Memory:
        try:
            memory: Memory = self.load(memory_id(user_id))
        except NotFoundError:
            return Memory(user_id=user_id)
        return memory
