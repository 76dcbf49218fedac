"""What the agent remembers about a user: the facts they stated. One memory per user.

A fact is kept as said ("I hold 2 ETH") with what could be read from it: a `subject`
(holding, venue, preference, or a plain note) and structured `fields` ({asset: ETH,
amount: 2}). Its `slot` says what it is about (``holding:ETH``), so a later fact about
the same thing ("I hold 3 ETH") supersedes the earlier one, and the event records which
it replaces. Each fact keeps where it was said (conversation and message) as provenance;
a fact is identified by that provenance and its text, so the same message handled twice
(a redelivery) records it once. A user sees and deletes what is remembered
(``GET``/``DELETE /v1/memory``): forgetting is an event too.

Bounds: a fact is at most `MAX_FACT_CHARS` characters, and a user has at most
`MAX_FACTS` facts at a time (a superseding fact takes its predecessor's place).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import event
from pydantic import Field, StringConstraints

from aggregates.conversation import MessageId
from aggregates.errors import DomainError, NotFoundError
from aggregates.model import (
    Aggregate,
    AggregateSnapshot,
    Immutable,
    SnapshotState,
    register_aggregate,
    utc_now,
)

MAX_FACT_CHARS = 280
MAX_FACTS = 100
SEEN_FACTS = 500
"""Ids of the latest facts recorded, forgotten or not, kept to refuse a second recording
of one statement: a redelivered message after the fact was superseded must not revive it."""

FactText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_FACT_CHARS)
]
Subject = Literal["holding", "venue", "preference", "note"]
FieldValue = str | float

_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/memory")


def memory_id(user_id: UUID) -> UUID:
    """A user's one memory: the same id every time."""
    return uuid5(_NAMESPACE, str(user_id))


class Provenance(Immutable):
    """Where a fact was stated."""

    conversation_id: UUID
    message_id: MessageId


class Fact(Immutable):
    fact_id: str = Field(min_length=1, max_length=64)
    text: FactText
    subject: Subject
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    source: Provenance | None = None
    at: datetime = Field(default_factory=utc_now)
    replaces: str | None = None
    """The fact this one superseded, if any."""

    @property
    def slot(self) -> str:
        """What the fact is about: two facts of one slot cannot both hold."""
        return slot_of(self.text, self.subject, self.fields)


# -- reading a statement ---------------------------------------------------------------------

_END = r"\s*[.!]?$"
_HOLDING = re.compile(
    r"^(?:i|we)\s+(?:hold|have|own|am holding|'m holding)\s+"
    r"(?:(?P<amount>\d[\d,_]*(?:\.\d+)?|\.\d+)\s*)?"
    r"(?P<dollar>\$)?(?P<asset>[A-Za-z][A-Za-z0-9]{1,11})"
    rf"(?:\s+(?:coins?|tokens?))?{_END}",
    re.I,
)
_VENUE = re.compile(
    r"^(?:i|we)\s+(?:mostly\s+|usually\s+)?(?:trade|am trading|'m trading)\s+(?:on|at|via)\s+"
    rf"(?P<venue>[A-Za-z0-9][\w .-]{{0,39}}?){_END}",
    re.I,
)
_PREFERENCE = re.compile(
    rf"^my\s+(?P<name>[a-z][a-z ]{{1,40}}?)\s+(?:is|are)\s+(?P<value>.{{1,100}}?){_END}", re.I
)


_NOT_ASSETS = frozenset(
    {"alert", "alerts", "rule", "rules", "wallet", "wallets", "account", "accounts",
     "question", "questions", "idea", "ideas", "trade", "trades", "position", "positions"}
)  # fmt: skip
"""Words that follow "I have 2 ..." without being something held: the system's own
things ("I have 2 alerts") and talk about trading."""


def normalised(text: str) -> str:
    """Case, spacing and end punctuation aside: "I hold  ETH." and "i hold eth" are one."""
    return " ".join(text.lower().split()).rstrip(".!? ")


def slot_of(text: str, subject: Subject, fields: dict[str, FieldValue]) -> str:
    """``holding:ETH``, ``venue:binance``, ``preference:risk_tolerance``, or a note's words."""
    if subject == "holding":
        return f"holding:{fields['asset']}"
    if subject == "venue":
        return f"venue:{str(fields['venue']).lower()}"
    if subject == "preference":
        return f"preference:{fields['name']}"
    return f"note:{normalised(text)}"


def understand(text: str, *, lenient: bool = False) -> tuple[Subject, dict[str, FieldValue]]:
    """The subject of a statement and the fields read from it (a note when none fit).

    A holding needs an amount, a ``$`` or a ticker in capitals ("I hold ETH"), so that
    "I have questions" stays a note; `lenient` drops that need (a description of a fact
    to forget, "I hold eth", names a holding).
    """
    cleaned = " ".join(text.split())
    if (match := _HOLDING.match(cleaned)) is not None:
        asset = match.group("asset")
        held = match.group("amount") or match.group("dollar") or asset.isupper()
        if asset.lower() not in _NOT_ASSETS and (lenient or held):
            fields: dict[str, FieldValue] = {"asset": asset.upper()}
            if match.group("amount"):
                fields["amount"] = float(match.group("amount").replace(",", "").replace("_", ""))
            return "holding", fields
    if (match := _VENUE.match(cleaned)) is not None:
        return "venue", {"venue": match.group("venue").strip()}
    if (match := _PREFERENCE.match(cleaned)) is not None:
        name = "_".join(match.group("name").lower().split())
        return "preference", {"name": name, "value": match.group("value").strip()}
    return "note", {}


def stated(
    user_id: UUID, text: str, source: Provenance | None = None, *, at: datetime | None = None
) -> Fact:
    """A fact as the user stated it, read (`understand`) and identified: by its source
    and text when it has a source (a redelivery makes the same id), else uniquely."""
    subject, fields = understand(text)
    if source is None:
        fact_id = str(uuid4())
    else:
        said = f"{user_id}/{source.conversation_id}/{source.message_id}/{normalised(text)}"
        fact_id = str(uuid5(_NAMESPACE, said))
    return Fact(
        fact_id=fact_id,
        text=text,
        subject=subject,
        fields=fields,
        source=source,
        at=at or utc_now(),
    )


# -- the aggregate ---------------------------------------------------------------------------


class MemoryState(SnapshotState):
    user_id: UUID
    facts: list[Fact]
    seen: list[str]


class Memory(Aggregate):
    """One user's remembered facts, oldest first."""

    class Snapshot(AggregateSnapshot):
        state: MemoryState

    @staticmethod
    def create_id(user_id: UUID) -> UUID:
        """One memory per user: the id is derived from the user's."""
        return memory_id(user_id)

    @event("Opened")
    def __init__(self, user_id: UUID) -> None:
        self.user_id = user_id
        self.facts: list[Fact] = []
        self.seen: list[str] = []

    # -- queries ------------------------------------------------------------------------

    def fact(self, fact_id: str) -> Fact | None:
        return next((f for f in self.facts if f.fact_id == fact_id), None)

    def about(self, description: str) -> list[Fact]:
        """The facts `description` points at: an id, the same slot ("I hold ETH" for any
        ETH holding), or words the fact's text contains ("risk tolerance")."""
        by_id = self.fact(description.strip())
        if by_id is not None:
            return [by_id]
        slot = slot_of(description, *understand(description, lenient=True))
        same_slot = [f for f in self.facts if f.slot == slot]
        if same_slot:
            return same_slot
        words = normalised(description)
        return [f for f in self.facts if words and words in normalised(f.text)]

    # -- commands -----------------------------------------------------------------------

    def record(self, fact: Fact) -> Fact | None:
        """Remember `fact`, superseding a fact of the same slot; None if this very fact
        (same id: same statement from the same message) was recorded before."""
        if fact.fact_id in self.seen:
            return None
        previous = next((f for f in self.facts if f.slot == fact.slot), None)
        if previous is None and len(self.facts) >= MAX_FACTS:
            raise DomainError(
                f"at most {MAX_FACTS} facts are remembered per user; forget some first"
            )
        recorded = fact.model_copy(update={"replaces": previous.fact_id if previous else None})
        self._fact_recorded(self.user_id, recorded)
        return recorded

    def forget(self, fact_id: str) -> Fact:
        fact = self.fact(fact_id)
        if fact is None:
            raise NotFoundError(f"no remembered fact {fact_id}")
        self._fact_forgotten(self.user_id, fact_id)
        return fact

    # -- events -------------------------------------------------------------------------
    # The user's id rides on each event so that its consumers (the memory index) need
    # no lookup to know whose fact it is.

    @event("FactRecorded")
    def _fact_recorded(self, user_id: UUID, fact: Fact) -> None:
        self.facts = [f for f in self.facts if f.fact_id != fact.replaces]
        self.facts.append(fact)
        self.seen = [*self.seen, fact.fact_id][-SEEN_FACTS:]

    @event("FactForgotten")
    def _fact_forgotten(self, user_id: UUID, fact_id: str) -> None:
        self.facts = [f for f in self.facts if f.fact_id != fact_id]


register_aggregate(Memory, "memory")
