"""The demo trader `make run` creates: its rule watches the simulator's market alone."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from aggregates.rule_spec import RuleSpec
from impressox.bootstrap import DEMO_RULE
from rules.firing import RuleState
from tests.rules.support import ENGINES, feed, tick


@pytest.mark.parametrize("kind", sorted(ENGINES))
def test_the_readme_s_manual_ticks_do_not_move_the_demo_rule(kind: str) -> None:
    """Issue 12: the README's walkthrough posts BTC/USDT at 99,000 then 101,000 on venue
    `manual` (a 2% move) and says the demo trader's rule does not fire on them."""
    engine = ENGINES[kind]()
    demo = RuleState(
        rule_id=uuid4(),
        owner_id=UUID(int=7),
        spec=RuleSpec.model_validate(DEMO_RULE),
        status="active",
    )
    engine.upsert(demo)
    manual = [tick(99_000, 0, venue="manual"), tick(101_000, 0.5, venue="manual")]
    assert feed(engine, *manual) == [[], []]
    simulator = [tick(99_000, 1, venue="simulator"), tick(101_000, 2, venue="simulator")]
    assert [len(fired) for fired in feed(engine, *simulator)] == [0, 1]
