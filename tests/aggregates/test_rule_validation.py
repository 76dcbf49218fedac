"""Every way a rule can be wrong is refused, naming the field, and nothing is recorded."""

from __future__ import annotations

import math
from typing import Any
from uuid import uuid4

import pytest

from aggregates.alert_rule import AlertRule
from aggregates.errors import InvalidCommandError
from aggregates.rule_spec import RuleSpec
from aggregates.services.alert_rules import AlertRules
from tests.aggregates.conftest import rule_spec

SYMBOL = {"kind": "symbol", "symbol": "BTC/USDT"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"target": {"kind": "symbol", "symbol": "btc-usdt"}},
            "target.symbol",
            "should match pattern",
        ),
        (
            {"target": {"kind": "symbol", "symbol": "BTCUSDT"}},
            "target.symbol",
            "should match pattern",
        ),
        (
            {"condition": {"type": "percent_change", "percent": 5, "window_s": -60}},
            "condition.window_s",
            "greater than 0",
        ),
        (
            {"condition": {"type": "absolute_move", "amount": 50, "window_s": 0}},
            "condition.window_s",
            "greater than 0",
        ),
        (
            {"condition": {"type": "percent_change", "percent": 0, "window_s": 60}},
            "condition.percent",
            "greater than 0",
        ),
        (
            {"condition": {"type": "volume_spike", "multiple": 1, "window_s": 60}},
            "condition.multiple",
            "greater than 1",
        ),
        ({"channels": []}, "channels", "at least 1 item"),
        ({"channels": ["Not A Channel"]}, "channels.0", "channel id"),
        (
            {"condition": {"type": "above", "threshold": math.inf}},
            "condition.threshold",
            "finite number",
        ),
        (
            {"condition": {"type": "below", "threshold": math.nan}},
            "condition.threshold",
            "finite number",
        ),
        (
            {"condition": {"type": "above", "threshold": "high"}},
            "condition.threshold",
            "valid number",
        ),
        (
            {"condition": {"type": "sideways", "threshold": 1}},
            "condition",
            "does not match any of the expected tags",
        ),
        (
            {"target": {"kind": "posts", "keyword": "SOL"}},
            "condition",
            "does not apply to a posts target",
        ),
        (
            {"target": {"kind": "posts"}, "condition": {"type": "mentioned"}},
            "target",
            "keyword or an account",
        ),
        (
            {
                "target": {"kind": "chain", "wallet": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"},
                "condition": {"type": "transferred"},
            },
            "target.wallet",
            "checksum is wrong",
        ),
        (
            {"frequency": {"kind": "at_most_once_per", "interval_s": 0}},
            "frequency.interval_s",
            "greater than 0",
        ),
        (
            {"frequency": {"kind": "every_time", "cooldown_s": -1}},
            "frequency.cooldown_s",
            "greater than or equal to 0",
        ),
        ({"expires_at": "2030-01-01T00:00:00"}, "expires_at", "needs a time zone"),
        ({"severity": "apocalyptic"}, "severity", "Input should be"),
        (
            {"message_template": "{symbol} at {prise}"},
            "message_template",
            "unknown fields ['prise']",
        ),
        ({"message_template": "{symbol"}, "message_template", "malformed template"),
        (
            {"message_template": "{price:>20000000}"},
            "message_template",
            "{price}: a width of at most 64, not 20000000",
        ),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_invalid_rules_are_refused_naming_the_field(
    rules: AlertRules, changes: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidCommandError) as refusal:
        rules.create(uuid4(), rule_spec(**changes))
    assert refusal.value.field == field
    assert message in str(refusal.value)
    assert str(refusal.value).startswith(f"{field}: ")
    assert rules.recorder.max_notification_id() is None


def test_every_condition_of_a_price_target_is_accepted(rules: AlertRules) -> None:
    conditions = [
        {"type": "above", "threshold": 1},
        {"type": "below", "threshold": 1},
        {"type": "crosses_up", "threshold": 1},
        {"type": "crosses_down", "threshold": 1},
        {"type": "percent_change", "percent": 2.5, "window_s": 300, "direction": "down"},
        {"type": "absolute_move", "amount": 100, "window_s": 60},
        {"type": "volume_spike", "multiple": 3, "window_s": 900},
    ]
    for condition in conditions:
        rule_id = rules.create(uuid4(), rule_spec(condition=condition))
        assert rules.load(rule_id).spec.condition.type == condition["type"]


def test_post_and_chain_rules_are_accepted(rules: AlertRules) -> None:
    posts = rules.create(
        uuid4(),
        rule_spec(
            target={"kind": "posts", "keyword": "$SOL"},
            condition={"type": "mentioned", "min_engagement": 100},
        ),
    )
    chain = rules.create(
        uuid4(),
        rule_spec(
            target={"kind": "chain", "wallet": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
            condition={"type": "transferred", "min_amount": 10},
        ),
    )
    assert rules.load(chain).spec.target.wallet == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # type: ignore[union-attr]
    assert rules.load(posts).spec.target.kind == "posts"


@pytest.mark.parametrize(
    ("condition", "meaning"),
    [
        ({"type": "below", "threshold": -5}, "below -5 could never fire"),
        ({"type": "above", "threshold": 0}, "above 0 would fire on every price"),
        ({"type": "crosses_up", "threshold": -1}, "crosses up -1 could never fire"),
        ({"type": "crosses_down", "threshold": 0}, "crosses down 0 could never fire"),
    ],
)
def test_a_threshold_no_price_reaches_is_refused(
    rules: AlertRules, condition: dict[str, Any], meaning: str
) -> None:
    """Issue 12: "below -5" was accepted, and waited in silence forever."""
    for rule_id in (None, uuid4()):
        with pytest.raises(InvalidCommandError) as refusal:
            rules.create(uuid4(), rule_spec(condition=condition), rule_id)
        assert refusal.value.field == "condition.threshold"
        assert str(refusal.value) == (
            f"condition.threshold: Input should be greater than 0 (prices are: {meaning})"
        )
    assert rules.recorder.max_notification_id() is None
    rule_id = rules.create(uuid4(), rule_spec())
    with pytest.raises(InvalidCommandError, match=r"^condition\.threshold: "):
        rules.update(rule_id, rule_spec(condition=condition))
    assert rules.load(rule_id).version == 1


def test_a_rule_recorded_with_such_a_threshold_still_loads(rules: AlertRules) -> None:
    """Rules accepted before the check keep working (their health says what is wrong)."""
    spec = RuleSpec.model_validate(rule_spec(condition={"type": "below", "threshold": -5}))
    old = AlertRule(owner_id=uuid4(), spec=spec)
    rules.commit(old)
    loaded = rules.load(old.id)
    assert loaded.spec == spec
    rules.pause(old.id)  # and commands that leave its spec alone still apply
    assert rules.load(old.id).status == "paused"
