"""A WebSocket connection's message budget, on a clock the test moves."""

from __future__ import annotations

from api.live.budget import MessageBudget


def test_the_budget_refills_with_time() -> None:
    now = [0.0]
    budget = MessageBudget(per_minute=60, burst=2, clock=lambda: now[0])
    assert [budget.take() for _ in range(3)] == [True, True, False]
    now[0] += 1.0  # one message a second
    assert [budget.take(), budget.take()] == [True, False]
    assert all(MessageBudget(per_minute=0, burst=1).take() for _ in range(100))
