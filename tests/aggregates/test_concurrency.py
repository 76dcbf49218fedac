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
    """Four threads load the same version, then commit together: one wins, three retry."""
    rule_id = rules.create(uuid4(), rule_spec())
    loaded_together = threading.Barrier(4)
    conflicts: list[str] = []

    def rename(suffix: str) -> None:
        first_attempt = True

        def command() -> None:
            nonlocal first_attempt
            rule = rules.load(rule_id)
            if first_attempt:
                first_attempt = False
                loaded_together.wait()  # all four hold version 1 before anyone commits
            rule.update(rule.spec.model_copy(update={"name": f"{rule.spec.name}+{suffix}"}))
            try:
                rules.commit(rule)
            except ConcurrentUpdateError:
                conflicts.append(suffix)
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
    assert len(conflicts) >= 3
