"""Two commands on one aggregate at once: one wins, the other is told to retry."""

from __future__ import annotations

import threading
from uuid import uuid4

import pytest

from aggregates.errors import ConcurrentUpdateError
from aggregates.services.alert_rules import AlertRules
from tests.aggregates.conftest import rule_spec


def test_the_second_writer_gets_a_conflict_and_writes_nothing(rules: AlertRules) -> None:
    rule_id = rules.create(uuid4(), rule_spec())
    first, second = rules.load(rule_id), rules.load(rule_id)
    first.pause()
    second.delete()
    rules.commit(first)
    with pytest.raises(ConcurrentUpdateError, match="reload it and try again"):
        rules.commit(second)
    assert rules.load(rule_id).status == "paused"
    assert rules.load(rule_id).version == 2


def test_racing_threads_lose_nothing_when_they_retry(rules: AlertRules) -> None:
    rule_id = rules.create(uuid4(), rule_spec())
    barrier = threading.Barrier(4)
    conflicts: list[int] = []

    def rename(severity: str) -> None:
        barrier.wait()

        def command() -> None:
            rule = rules.load(rule_id)
            rule.update(rule.spec.model_copy(update={"name": f"{rule.spec.name}+{severity}"}))
            try:
                rules.commit(rule)
            except ConcurrentUpdateError:
                conflicts.append(1)
                raise

        rules.retrying(command, attempts=10)

    threads = [threading.Thread(target=rename, args=(s,)) for s in ("a", "b", "c", "d")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = rules.load(rule_id)
    assert final.version == 5
    assert sorted(final.spec.name.split("+")[1:]) == ["a", "b", "c", "d"]
    assert conflicts, "the threads were expected to collide at least once"
