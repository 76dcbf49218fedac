"""Conversations record each turn once; watches keep checksummed wallets."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from aggregates.conversation import AgentReply, Clarification, conversation_id
from aggregates.errors import DomainError, InvalidCommandError
from aggregates.services.conversations import Conversations
from aggregates.services.watches import Watches
from aggregates.watch import watch_id


def test_a_thread_has_one_conversation_and_a_message_is_recorded_once(
    conversations: Conversations,
) -> None:
    user = uuid4()
    first, new = conversations.receive(
        user, "telegram", "chat-1", {"message_id": "m1", "text": "price of ETH"}
    )
    again, repeated = conversations.receive(
        user, "telegram", "chat-1", {"message_id": "m1", "text": "price of ETH"}
    )
    other, _ = conversations.receive(user, "telegram", "chat-2", {"message_id": "m1", "text": "hi"})
    assert (new, repeated) == (True, False)
    assert first == again == conversation_id(user, "telegram", "chat-1")
    assert other != first
    assert len(conversations.load(first).turns) == 1


def test_a_burst_is_recorded_in_order_in_one_commit_and_each_message_once(
    conversations: Conversations, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = uuid4()
    conv, _ = conversations.receive(user, "discord", "c", {"message_id": "m1", "text": "one"})
    version = conversations.load(conv).version
    burst = [{"message_id": f"m{n}", "text": f"n{n}"} for n in (1, 2, 3, 2, 4)]
    saves: list[object] = []
    save = conversations.save

    def counted(*aggregates: Any, **options: Any) -> Any:
        saves.append(aggregates)
        return save(*aggregates, **options)

    monkeypatch.setattr(conversations, "save", counted)
    same, news = conversations.receive_many(user, "discord", "c", burst)
    assert same == conv
    assert news == [False, True, True, False, True]  # m1 was recorded; m2 twice in the burst
    events = conversations.history(conv)
    assert conversations.load(conv).version == version + 3
    assert [event.originator_version for event in events[-3:]] == [
        version + 1,
        version + 2,
        version + 3,
    ]
    texts = [turn.text for turn in conversations.load(conv).turns]  # type: ignore[union-attr]
    assert texts == ["one", "n2", "n3", "n4"]
    with pytest.raises(InvalidCommandError, match=r"message\.message_id"):
        conversations.receive_many(
            user,
            "discord",
            "c",
            [{"message_id": "m5", "text": "ok"}, {"message_id": "", "text": "x"}],
        )
    assert conversations.load(conv).version == version + 3  # nothing of a refused burst


def test_a_message_gets_at_most_one_reply(conversations: Conversations) -> None:
    conv, _ = conversations.receive(
        uuid4(), "web", "t", {"message_id": "m1", "text": "alert me when BTC > 100k"}
    )
    conversations.call_tool(
        conv,
        {
            "call_id": "c1",
            "in_reply_to": "m1",
            "tool": "create_rule",
            "arguments": {"symbol": "BTC/USDT"},
        },
    )
    conversations.record_tool_result(conv, {"call_id": "c1", "output": {"rule_id": "r1"}})
    conversations.reply(
        conv,
        {
            "reply_id": "r1",
            "in_reply_to": "m1",
            "text": "Done.",
            "usage": {"model": "offline", "input_tokens": 12, "output_tokens": 3},
        },
    )
    with pytest.raises(DomainError, match="answered already"):
        conversations.reply(conv, {"reply_id": "r2", "in_reply_to": "m1", "text": "Done again."})
    with pytest.raises(DomainError, match="answered already"):
        conversations.call_tool(
            conv, {"call_id": "c2", "in_reply_to": "m1", "tool": "x", "arguments": {}}
        )
    conversation = conversations.load(conv)
    assert (conversation.input_tokens, conversation.output_tokens) == (12, 3)
    assert [turn.kind for turn in conversation.turns] == [
        "user",
        "tool_call",
        "tool_result",
        "reply",
    ]


def test_a_kept_conversation_fast_forwards_to_what_a_load_gives(
    conversations: Conversations,
) -> None:
    user = uuid4()
    conv, _ = conversations.receive(user, "web", "t", {"message_id": "m1", "text": "hi"})
    kept = conversations.load(conv)
    for n in range(2, 60):  # past a snapshot (every 50 events)
        conversations.receive(user, "web", "t", {"message_id": f"m{n}", "text": f"hi {n}"})
    conversations.reply(conv, {"reply_id": "r59", "in_reply_to": "m59", "text": "hello"})
    current = conversations.fast_forward(kept)
    loaded = conversations.load(conv)
    assert current.version == loaded.version == 61
    assert current.turns == loaded.turns
    assert conversations.fast_forward(current) is current  # nothing new: nothing read


def test_a_question_asked_is_kept_with_its_reply_and_past_a_snapshot(
    conversations: Conversations,
) -> None:
    user = uuid4()
    conv, _ = conversations.receive(user, "web", "t", {"message_id": "m1", "text": "alert at 300"})
    request = {"intent": "create_alert", "slots": {"level": 300}, "missing": ["symbol", "side"]}
    asked = Clarification(in_reply_to="m1", request=request)
    reply = AgentReply(reply_id="r1", in_reply_to="m1", text="Above or below 300?")
    conversations.record_turn(conv, [], reply, asked)
    with pytest.raises(DomainError, match="answered already"):
        conversations.change(conv, lambda conversation: conversation.ask(asked))
    for n in range(2, 60):  # past a snapshot (every 50 events)
        conversations.receive(user, "web", "t", {"message_id": f"m{n}", "text": f"hi {n}"})
    loaded = conversations.load(conv)
    assert loaded.clarification_for("m1") == asked
    assert loaded.clarification_for("m2") is None
    assert [event.event_type for event in conversations.history(conv)][:4] == [
        "conversation.started",
        "conversation.turn_recorded",
        "conversation.clarification_asked",
        "conversation.replied",
    ]


def test_tool_results_need_their_call(conversations: Conversations) -> None:
    conv, _ = conversations.receive(uuid4(), "web", "t", {"message_id": "m1", "text": "hi"})
    with pytest.raises(DomainError, match="no tool call"):
        conversations.record_tool_result(conv, {"call_id": "nope", "output": 1})
    with pytest.raises(DomainError, match="no message m9"):
        conversations.reply(conv, {"reply_id": "r", "in_reply_to": "m9", "text": "?"})
    with pytest.raises(InvalidCommandError, match=r"message\.message_id"):
        conversations.receive(uuid4(), "web", "t", {"message_id": "", "text": "hi"})


def test_wallets_are_checksummed_and_labelled(watches: Watches) -> None:
    user = uuid4()
    address = watches.watch_wallet(
        user, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ens="Vitalik.ETH"
    )
    assert address == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    watch = watches.load(watch_id(user))
    assert watch.wallets[address].ens == "vitalik.eth"
    with pytest.raises(DomainError, match="watched already"):
        watches.watch_wallet(user, address.lower())
    watches.unwatch_wallet(user, address.upper().replace("0X", "0x"))
    assert watches.load(watch_id(user)).wallets == {}


@pytest.mark.parametrize(
    ("address", "ens", "field", "message"),
    [
        ("0x123", None, "address", "40 hexadecimal digits"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", None, "address", "checksum is wrong"),
        ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "vitalik.com", "ens", "ending in .eth"),
    ],
)
def test_bad_wallets_are_refused(
    watches: Watches, address: str, ens: str | None, field: str, message: str
) -> None:
    with pytest.raises(InvalidCommandError) as refusal:
        watches.watch_wallet(uuid4(), address, ens=ens)
    assert refusal.value.field == field
    assert message in str(refusal.value)


def test_accounts_and_keywords(watches: Watches) -> None:
    user = uuid4()
    watches.follow_account(user, "x", "@VitalikButerin")
    watches.follow_keyword(user, "$SOL")
    with pytest.raises(DomainError, match="followed already"):
        watches.follow_keyword(user, "$sol")
    with pytest.raises(InvalidCommandError, match="keyword"):
        watches.follow_keyword(user, "!!")
    watch = watches.load(watch_id(user))
    assert (watch.accounts[0].handle, watch.keywords) == ("VitalikButerin", ["$sol"])
    watches.unfollow_account(user, "x", "VitalikButerin")
    watches.unfollow_keyword(user, "$SOL")
    assert watches.load(watch_id(user)).keywords == []
