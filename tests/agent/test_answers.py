"""Tool results said in plain language: a created rule's frequency, expiry and health;
bulk changes; confirmations with one Yes / No."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent.answers import compose


def said(tool: str, result: dict[str, Any]) -> str:
    return compose([(tool, json.dumps(result))])


CREATED = {"rule_id": "r", "number": 2, "summary": "ETH/USDT below 3,000"}


@pytest.mark.parametrize(
    ("frequency", "words"),
    [
        ({"kind": "once"}, "It fires once, on the web, then it is done."),
        ({"kind": "every_time", "cooldown_s": 300}, "every time it holds, at most every 5 minutes"),
        ({"kind": "at_most_once_per", "interval_s": 86400}, "It fires at most once a day"),
    ],
)
def test_a_created_rule_says_how_often_it_fires(frequency: dict[str, Any], words: str) -> None:
    answer = said("create_alert", CREATED | {"frequency": frequency})
    assert answer.startswith("Done: alert 2, \u201cETH/USDT below 3,000\u201d.")
    assert words in answer


def test_a_created_rule_that_can_fire_says_done() -> None:
    health = {"state": "armed", "detail": "It can fire now."}
    answer = said("create_alert", CREATED | {"frequency": {"kind": "once"}, "health": health})
    assert answer.startswith("Done: alert 2, \u201cETH/USDT below 3,000\u201d.")


def test_a_created_rule_that_cannot_fire_says_why_first() -> None:
    health = {
        "state": "no_source_for_symbol",
        "detail": "No running price source reports ETH/USDT yet: it will not fire until one does.",
    }
    answer = said("create_alert", CREATED | {"frequency": {"kind": "once"}, "health": health})
    assert answer.startswith(
        "Done, but no running price source reports ETH/USDT yet: it will not fire until one"
        " does. It is alert 2, \u201cETH/USDT below 3,000\u201d."
    )
    assert answer.endswith("It fires once, on the web, then it is done.")


def test_a_rule_with_an_expiry_says_when_it_ends() -> None:
    result = CREATED | {"frequency": {"kind": "once"}, "expires_at": "2026-05-08T23:59:59+00:00"}
    assert "It ends at 2026-05-08 23:59 UTC." in said("create_alert", result)


def test_a_change_to_several_alerts_names_them_and_those_left_alone() -> None:
    result = {
        "alerts": [{"number": 1, "summary": "BTC/USDT above 100,000"}],
        "unchanged": [{"number": 2, "summary": "ETH/USDT below 3,000", "status": "paused"}],
    }
    assert said("pause_alert", result) == (
        "Paused 1 alert: 1. BTC/USDT above 100,000. Left as they were: 2. ETH/USDT below"
        " 3,000 (paused)."
    )


def test_confirmations_are_asked_together_with_one_yes_no() -> None:
    asked = [
        ("delete_alert", json.dumps({"question": "Delete alert 2, 'ETH/USDT below 3,000'?"})),
        ("delete_alert", json.dumps({"question": "Delete alert 4, 'SOL/USDT above 250'?"})),
    ]
    assert compose(asked) == (
        "Delete alert 2, 'ETH/USDT below 3,000'? Delete alert 4, 'SOL/USDT above 250'? Yes / No"
    )


@pytest.mark.parametrize(
    ("tool", "result", "answer"),
    [
        (
            "pause_alert",
            {
                "error": "pause_alert failed: only an active rule can be paused",
                "tool": "pause_alert",
                "reason": "only an active rule can be paused; this one is paused",
            },
            "I could not pause that alert: it is not active (it is paused).",
        ),
        (
            "resume_alert",
            {
                "error": "resume_alert failed: only a paused rule can be resumed",
                "tool": "resume_alert",
                "reason": "only a paused rule can be resumed; this one is active",
            },
            "I could not resume that alert: it is not paused (it is active).",
        ),
        (
            "delete_alert",
            {"error": "delete_alert failed: you have no SOL/USDT alerts", "tool": "delete_alert"},
            "Nothing to delete: you have no SOL/USDT alerts.",
        ),
        (
            "get_price",
            {
                "error": "get_price failed: no price for DOGE/USDT yet",
                "tool": "get_price",
                "symbol": "DOGE/USDT",
                "known": ["BTC/USDT", "ETH/USDT", "SOL/USDT"],
            },
            "I have no price for DOGE/USDT: no running source reports it. I track BTC, ETH, SOL.",
        ),
        (
            "create_alert",
            {"error": "invalid arguments for create_alert: symbol: field required"},
            "I could not create that alert: the request was incomplete or malformed"
            " (symbol: field required).",
        ),
    ],
)
def test_a_failure_is_said_in_plain_language_without_the_tools_name(
    tool: str, result: dict[str, Any], answer: str
) -> None:
    said_ = said(tool, result)
    assert said_ == answer
    assert tool not in said_


def test_watches_are_listed_by_kind_and_none_says_how_to_add_one() -> None:
    watched = {
        "wallets": [{"address": "0xabc", "ens": "vitalik.eth"}],
        "accounts": [{"platform": "x", "handle": "cobie"}],
        "keywords": ["airdrop"],
    }
    assert said("list_watches", watched) == (
        'You are watching:\n• Wallets: vitalik.eth\n• Accounts: @cobie on x\n• Keywords: "airdrop"'
    )
    nothing = said("list_watches", {"wallets": [], "accounts": [], "keywords": []})
    assert nothing.startswith("You are not watching anything yet.")


def test_forgetting_everything_says_how_much() -> None:
    forgotten = {"forgotten": [{"text": "I hold 2 ETH"}, {"text": "I use kraken"}], "all": True}
    assert said("forget_everything", forgotten) == "Forgotten everything you told me (2 facts)."
