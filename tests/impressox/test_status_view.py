"""`events info` fits an 80-column terminal with the real system's names and figures."""

from __future__ import annotations

from rich.console import Console

import projections.readmodels  # noqa: F401  (registers every read model)
from bots.health import BotHealth
from handlers.declaration import HANDLERS
from handlers.monitoring import GroupStatus, StreamStatus
from impressox.cli.status_view import count, print_bots, print_streams, print_summary
from impressox.modules import load_handlers
from projections.generations import Generation
from projections.registry import PROJECTIONS


def _groups() -> list[str]:
    """Every consumer group a deployment runs: handlers, and read models at generation 12."""
    load_handlers([])
    return HANDLERS.names() + [Generation(name, 12).group for name in PROJECTIONS.names()]


def _render(print_: object, *args: object) -> list[str]:
    console = Console(width=80, color_system=None)
    with console.capture() as captured:
        print_(console, *args)  # type: ignore[operator]
    return captured.get().splitlines()


def _statuses() -> list[StreamStatus]:
    """Four busy partitions of ticks, every group on each, one of them stalled."""
    return [
        StreamStatus(
            stream=f"ix:{{{tag}}}:ticks",
            tag=str(tag),
            category="ticks",
            length=123_456_789,
            first=None,
            last=None,
            groups=[
                GroupStatus(
                    group=group,
                    consumers=1,
                    pending=12_345,
                    lag=1_234_567,
                    lag_is_lower_bound=group.startswith("proj-"),
                    last_delivered="0-0",
                    owner=f"a-rather-long-host-name-{group}@123456",
                    processed=987_654_321,
                    failed=45_678,
                    dead_lettered=1_234,
                    duplicates=99_999,
                    waiting_s=120.0 if group == "notify" else None,
                )
                for group in _groups()
            ],
        )
        for tag in range(4)
    ]


def test_the_summary_fits_80_columns_without_cutting_a_name_or_a_figure() -> None:
    """Issue 12: at 80 columns headers showed `pendi…`, a million processed `1,000…`."""
    lines = _render(print_summary, _statuses(), 60.0)
    assert max(map(len, lines)) <= 80
    assert not any("…" in line for line in lines)
    rows = {line.split()[0]: line.split() for line in lines if line.strip()}
    for group in _groups():
        assert group in rows, group
    assert rows["rules"][1:] == ["4/4", "4.9M", "49.4k", "4.0G", "183k", "4,936", "400k"]
    assert rows["notify"][1] == "!"


def test_every_stream_s_name_and_every_owner_is_shown_whole() -> None:
    lines = _render(print_streams, _statuses()[:1], 60.0)
    assert max(map(len, lines)) <= 80
    assert lines[0].startswith("ix:{0}:ticks  123,456,789 events")
    names = [line.split()[0] for line in lines[2:] if line.startswith("  ") and line[2] != " "]
    assert names == _groups()  # whole, one per line
    folded = "".join("".join(lines).split())  # an owner may fold onto the next line
    assert all(f"a-rather-long-host-name-{group}@123456" in folded for group in _groups())


def test_the_bots_table_fits_with_its_last_event_time() -> None:
    health = BotHealth("telegram", connected=True, recorded=1_234_000)
    health.messages_in = 1_234_566
    health.received()
    lines = _render(print_bots, {"telegram": health.fields()})
    assert max(map(len, lines)) <= 80
    assert not any("…" in line for line in lines)
    (row,) = [line.split() for line in lines if line.split()[:1] == ["telegram"]]
    assert row[1:4] == ["yes", "1.2M", "1.2M"]
    day, time = row[-2:]
    assert (len(day), len(time)) == (len("2026-12-07"), len("03:49:50"))


def test_counts_stay_within_five_characters() -> None:
    assert [count(n) for n in (0, 9_999, 10_000, 99_949, 123_456, 999_499, 999_500)] == [
        "0",
        "9,999",
        "10.0k",
        "99.9k",
        "123k",
        "999k",
        "1.0M",
    ]
    assert max(len(count(10**n - 1)) for n in range(1, 13)) <= 5
