"""A user's memory: facts recorded with their source, superseded, forgotten, bounded."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest

from aggregates.errors import DomainError, InvalidCommandError, NotFoundError
from aggregates.memory import MAX_FACT_CHARS, MAX_FACTS, Memory, memory_id, stated, understand
from aggregates.services.memory import Memories


@pytest.fixture
def memories(es_env: dict[str, str]) -> Iterator[Memories]:
    app = Memories(es_env)
    yield app
    app.close()


@pytest.mark.parametrize(
    ("text", "subject", "fields"),
    [
        ("I hold 2 ETH", "holding", {"asset": "ETH", "amount": 2.0}),
        ("I have 0.5 BTC.", "holding", {"asset": "BTC", "amount": 0.5}),
        ("we own 1,500 $usdc", "holding", {"asset": "USDC", "amount": 1500.0}),
        ("I hold ETH", "holding", {"asset": "ETH"}),
        ("I have questions", "note", {}),
        ("I trade on Binance", "venue", {"venue": "Binance"}),
        ("my risk tolerance is low", "preference", {"name": "risk_tolerance", "value": "low"}),
        ("I prefer swing trades", "note", {}),
    ],
)
def test_a_statement_is_read_into_a_subject_and_fields(
    text: str, subject: str, fields: dict[str, object]
) -> None:
    assert understand(text) == (subject, fields)


def test_a_fact_is_recorded_with_its_source(memories: Memories) -> None:
    user, conversation = uuid4(), uuid4()
    remembered = memories.remember(
        user, " I hold 2 ETH ", conversation_id=conversation, message_id="m1"
    )
    fact = remembered.fact
    assert remembered.new
    assert (fact.text, fact.subject, fact.fields) == (
        "I hold 2 ETH",
        "holding",
        {"amount": 2.0, "asset": "ETH"},
    )
    assert fact.source is not None
    assert (fact.source.conversation_id, fact.source.message_id) == (conversation, "m1")
    (event,) = [e for e in memories.history(memory_id(user)) if type(e).__name__ == "FactRecorded"]
    assert event.event_type == "memory.fact_recorded"
    assert event.model_dump()["fact"]["source"] == {
        "conversation_id": conversation,
        "message_id": "m1",
    }
    assert memories.facts(user) == [fact]


def test_the_same_statement_of_the_same_message_is_recorded_once(memories: Memories) -> None:
    user, conversation = uuid4(), uuid4()
    first = memories.remember(user, "I hold 2 ETH", conversation_id=conversation, message_id="m1")
    memories.remember(user, "I hold 3 ETH", conversation_id=conversation, message_id="m2")
    # m1 handled again after m2 superseded it: it must not come back.
    again = memories.remember(user, "I hold 2 ETH", conversation_id=conversation, message_id="m1")
    assert not again.new
    assert again.fact.fact_id == first.fact.fact_id
    assert [f.text for f in memories.facts(user)] == ["I hold 3 ETH"]
    # Said again in another message, it is a new statement.
    later = memories.remember(user, "I hold 2 ETH", conversation_id=conversation, message_id="m3")
    assert later.new


def test_a_fact_about_the_same_thing_supersedes_the_earlier_one(memories: Memories) -> None:
    user = uuid4()
    two = memories.remember(user, "I hold 2 ETH").fact
    memories.remember(user, "I trade on Binance")
    three = memories.remember(user, "I hold 3 eth")  # a lowercase ticker with an amount
    memories.remember(user, "I hold 1 BTC")
    memories.remember(user, "I trade on binance.")
    assert three.fact.replaces == two.fact_id
    assert three.replaced == two
    texts = [f.text for f in memories.facts(user)]
    assert texts == ["I hold 3 eth", "I hold 1 BTC", "I trade on binance."]


def test_facts_are_forgotten_by_id_or_by_description(memories: Memories) -> None:
    user = uuid4()
    eth = memories.remember(user, "I hold 2 ETH").fact
    memories.remember(user, "I hold 1 BTC")
    memories.remember(user, "my risk tolerance is low")
    memories.remember(user, "I trade on Binance")
    assert memories.forget(user, eth.fact_id) == eth
    assert [f.text for f in memories.forget_about(user, "I hold btc")] == ["I hold 1 BTC"]
    assert [f.text for f in memories.forget_about(user, "risk tolerance")] == [
        "my risk tolerance is low"
    ]
    assert [f.text for f in memories.facts(user)] == ["I trade on Binance"]
    with pytest.raises(NotFoundError, match="nothing remembered matches 'I hold ETH'"):
        memories.forget_about(user, "I hold ETH")
    with pytest.raises(NotFoundError, match="no remembered fact"):
        memories.forget(user, eth.fact_id)
    with pytest.raises(NotFoundError, match="nothing is remembered"):
        memories.forget(uuid4(), eth.fact_id)
    kinds = [e.event_type for e in memories.history(memory_id(user))]
    assert kinds.count("memory.fact_forgotten") == 3


def test_a_fact_is_bounded_in_length_and_a_user_in_facts(memories: Memories) -> None:
    user = uuid4()
    with pytest.raises(InvalidCommandError, match=r"fact: .*at most 280"):
        memories.remember(user, "x" * (MAX_FACT_CHARS + 1))
    with pytest.raises(InvalidCommandError, match=r"fact: .*at least 1"):
        memories.remember(user, "   ")
    memory = Memory(user_id=user)
    for n in range(MAX_FACTS):
        assert memory.record(stated(user, f"note {n}")) is not None
    memories.commit(memory)
    with pytest.raises(DomainError, match=f"at most {MAX_FACTS} facts"):
        memories.remember(user, "one note too many")
    # Updating a fact takes its predecessor's place: still allowed.
    updated = memories.remember(user, "note 7")
    assert updated.new
    assert len(memories.facts(user)) == MAX_FACTS
    assert updated.replaced is not None
    assert updated.replaced.text == "note 7"


def test_the_memory_comes_back_from_a_snapshot(memories: Memories) -> None:
    user = uuid4()
    memories.remember(user, "I hold 2 ETH", conversation_id=uuid4(), message_id="m1")
    memories.take_snapshot(memory_id(user))
    fresh = memories.load(memory_id(user))
    assert [f.fields for f in fresh.facts] == [{"asset": "ETH", "amount": 2.0}]
    assert fresh.facts[0].source is not None
