"""The poll pacer: it sleeps until a clock-paced chain's next block is due, and polls at
the interval on a chain whose blocks come with transactions."""

from __future__ import annotations

import pytest

from chain.pacing import PollPacer


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_chain_on_a_clock_is_polled_when_its_next_block_is_due() -> None:
    clock = Clock(1_000.0)
    pacer = PollPacer(interval_s=0.25, clock=clock)
    assert (pacer.until_due_s(), pacer.wait_s()) == (0.0, 0.25)  # nothing learnt yet
    for timestamp in (1_000, 1_012, 1_024, 1_036):  # a 12 s slot, read 0.8 to 1.5 s late
        clock.now = timestamp + (0.8 if timestamp != 1_024 else 1.5)
        pacer.block_arrived(timestamp)
    # due: the next slot (1,048) plus the least delay seen (0.8) plus a margin (0.05)
    assert pacer.until_due_s() == pytest.approx(1_048.85 - clock.now)
    clock.now = 1_048.9  # polled, not there yet: poll again at the interval
    assert pacer.wait_s() == 0.25
    pacer.forget()
    assert pacer.until_due_s() == 0.0


def test_blocks_that_come_with_transactions_are_polled_at_the_interval() -> None:
    clock = Clock(5.0)
    pacer = PollPacer(interval_s=0.02, clock=clock)
    for timestamp in (5, 5, 6, 6, 6, 7):  # several blocks a second: no clock to follow
        pacer.block_arrived(timestamp)
    assert (pacer.until_due_s(), pacer.wait_s()) == (0.0, 0.02)
