"""`bots.turns`: a chat's turns recorded in order, a run of one conversation per commit,
and a refused turn not taking the others with it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from aggregates.conversation import UserMessage, conversation_id
from aggregates.services.bundle import Services
from bots.health import BotHealth
from bots.turns import Turn, TurnWriter


def _turn(user_id: UUID, thread: str, message_id: str) -> Turn:
    return Turn(user_id, thread, message_id, f"text {message_id}", datetime.now(UTC))


def _texts(services: Services, user_id: UUID, thread: str) -> list[str]:
    conversation = services.conversations.load(conversation_id(user_id, "discord", thread))
    return [turn.text for turn in conversation.turns if isinstance(turn, UserMessage)]


async def test_consecutive_turns_of_a_conversation_share_a_commit(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = await asyncio.to_thread(services.users.register, "Satoshi")
    calls: list[int] = []
    receive_many = services.conversations.receive_many

    def counted(*args: Any) -> Any:
        calls.append(len(args[3]))
        return receive_many(*args)

    monkeypatch.setattr(services.conversations, "receive_many", counted)
    health = BotHealth("discord")
    writer = TurnWriter(services.conversations, "discord", health)
    turns = [
        _turn(user_id, "a", "m1"),
        _turn(user_id, "a", "m2"),
        _turn(user_id, "b", "m3"),
        _turn(user_id, "a", "m4"),
        _turn(user_id, "a", "m2"),  # delivered twice
    ]
    assert await writer.record(turns) == [True, True, True, True, False]
    assert calls == [2, 1, 2]
    assert _texts(services, user_id, "a") == ["text m1", "text m2", "text m4"]
    assert _texts(services, user_id, "b") == ["text m3"]
    assert (health.recorded, health.errors) == (4, 0)


async def test_a_refused_turn_is_counted_and_the_others_are_recorded(services: Services) -> None:
    user_id = await asyncio.to_thread(services.users.register, "Satoshi")
    health = BotHealth("discord")
    writer = TurnWriter(services.conversations, "discord", health)
    turns = [_turn(user_id, "a", "m1"), _turn(user_id, "a", ""), _turn(user_id, "a", "m3")]
    assert await writer.record(turns) == [True, False, True]
    assert _texts(services, user_id, "a") == ["text m1", "text m3"]
    assert (health.recorded, health.errors) == (2, 1)
