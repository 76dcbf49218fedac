"""A rule's health from given facts: each state, which one wins, what the detail says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from projections.rule_health import Facts, Market, RuleView, health_of
from tests.aggregates.conftest import rule_spec

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OWNER = "7d9c0000-0000-0000-0000-000000000001"


def facts(
    markets: dict[tuple[str, str], Market] | None = None,
    *,
    channels: frozenset[str] | None = frozenset({"web"}),
    stale_after: timedelta | None = timedelta(minutes=2),
    chain_watched: bool = False,
) -> Facts:
    return Facts(
        now=NOW,
        markets=markets or {},
        channels={} if channels is None else {OWNER: channels},
        chain_watched=chain_watched,
        stale_after=stale_after,
    )


def view(status: str = "active", **changes: Any) -> RuleView:
    return RuleView(OWNER, rule_spec(**changes), status)


def seen(seconds_ago: float, *sources: str) -> Market:
    return Market(sources=sources, last_price_at=NOW - timedelta(seconds=seconds_ago))


def test_an_any_venue_rule_is_armed_while_one_covered_venue_is_fresh() -> None:
    markets = {
        ("BTC/USDT", "binance"): seen(3600, "exchange"),
        ("BTC/USDT", "simulator"): seen(1, "simulator"),
        ("BTC/USDT", "manual"): seen(0),
    }
    judged = health_of(view(), facts(markets))
    assert (judged.health, judged.detail) == ("armed", "Watching BTC/USDT on manual, simulator.")
    on_binance = view(target={"kind": "symbol", "symbol": "BTC/USDT", "venue": "binance"})
    assert health_of(on_binance, facts(markets)).health == "source_stale"
    assert health_of(on_binance, facts(markets, stale_after=None)).health == "armed"


def test_prices_posted_by_hand_alone_do_not_arm_a_rule() -> None:
    judged = health_of(view(), facts({("BTC/USDT", "manual"): seen(300)}))
    assert judged.health == "no_source_for_symbol"
    assert judged.detail.endswith(
        "or until a price of it is posted to /v1/events/ticks (the last came 5 min ago)."
    )


def test_a_problem_of_the_target_comes_first_and_a_missing_channel_is_added() -> None:
    judged = health_of(view(channels=["web", "desk"]), facts())
    assert judged.health == "no_source_for_symbol"
    assert judged.detail == (
        "No running price source reports BTC/USDT yet: it will not fire until one does."
        " Channel 'desk' no longer exists: its alerts reach only web (add it, or change the"
        " rule)."
    )
    covered = facts({("BTC/USDT", "simulator"): seen(1, "simulator")}, channels=frozenset())
    gone = health_of(view(), covered)
    assert (gone.health, gone.detail) == (
        "channel_missing",
        "Channel 'web' no longer exists: its alerts reach no one (add it, or change the rule).",
    )


def test_an_owner_whose_channels_are_not_known_yet_is_not_judged() -> None:
    covered = {("BTC/USDT", "simulator"): seen(1, "simulator")}
    assert health_of(view(channels=["desk"]), facts(covered, channels=None)).health == "armed"


@pytest.mark.parametrize(
    ("status", "changes", "wanted"),
    [
        ("paused", {}, "paused"),
        ("completed", {}, "completed"),
        ("expired", {}, "expired"),
        ("deleted", {}, "deleted"),
        ("active", {"expires_at": (NOW - timedelta(seconds=1)).isoformat()}, "expired"),
        ("paused", {"condition": {"type": "below", "threshold": -5}}, "paused"),
    ],
)
def test_a_rule_that_is_not_evaluated_says_why_first(
    status: str, changes: dict[str, Any], wanted: str
) -> None:
    assert health_of(view(status, **changes), facts()).health == wanted


def test_a_chain_rule_is_armed_once_a_chain_watcher_runs() -> None:
    wallet = {"kind": "chain", "wallet": "0x52908400098527886E0F7030069857D2E4169EE7"}
    rule = view(target=wallet, condition={"type": "transferred"})
    assert health_of(rule, facts()).health == "no_chain_watcher"
    assert health_of(rule, facts(chain_watched=True)).health == "armed"
