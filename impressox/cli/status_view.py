"""`events info` as an operator reads it: a few rows that fit an 80-column terminal.

A system has tens of streams per partition count (a category per partition, a retry
stream per handler and partition, one stream per aggregate), so listing them one per row
buried the figures that matter under hundreds of cut names. The summary folds them: one
row per category (its partitions together, an application's aggregates together) and one
row per handler (its streams and partitions together). `--streams` lists every stream and
group, with names folded onto several lines rather than cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from events.position import Position
from handlers.dead_letter_ops import RETRY_PREFIX
from handlers.monitoring import GroupStatus, StreamStatus

AGGREGATE_KINDS = ("agg.", "snap.")


@dataclass
class CategoryRow:
    """One category's streams summed: every partition, or an application's aggregates."""

    name: str
    streams: int = 0
    length: int = 0
    last: Position | None = None

    def add(self, status: StreamStatus) -> None:
        self.streams += 1
        self.length += status.length
        if status.last is not None and (self.last is None or status.last > self.last):
            self.last = status.last


@dataclass
class HandlerRow:
    """One handler's consumer groups summed over its streams and partitions."""

    name: str
    partitions: set[str] = field(default_factory=set)
    owned: set[str] = field(default_factory=set)
    lag: int = 0
    lag_is_lower_bound: bool = False
    pending: int = 0
    processed: int = 0
    failed: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    stalled: list[tuple[str, float]] = field(default_factory=list)
    """(partition, seconds waited) of each stalled partition."""

    def add(self, tag: str, group: GroupStatus, stall_after_s: float) -> None:
        self.partitions.add(tag)
        if group.owner:
            self.owned.add(tag)
        self.lag += group.lag or 0
        self.lag_is_lower_bound |= group.lag_is_lower_bound
        self.pending += group.pending
        self.processed += group.processed
        self.failed += group.failed
        self.dead_lettered += group.dead_lettered
        self.duplicates += group.duplicates
        if group.stalled(stall_after_s) and group.waiting_s is not None:
            self.stalled.append((tag, group.waiting_s))


def category_of(status: StreamStatus) -> str:
    """The row a stream is counted in: partitions fold into their category, an
    application's per-aggregate streams into one `aggregates` row, retries into one."""
    if status.category.startswith(AGGREGATE_KINDS):
        return f"{status.tag} aggregates"
    if status.category.startswith(RETRY_PREFIX):
        return "retries"
    if status.tag.startswith("app."):
        return f"{status.tag} {status.category}"
    return status.category


def summarise(
    statuses: Iterable[StreamStatus], stall_after_s: float
) -> tuple[list[CategoryRow], list[HandlerRow]]:
    categories: dict[str, CategoryRow] = {}
    handlers: dict[str, HandlerRow] = {}
    for status in statuses:
        name = category_of(status)
        categories.setdefault(name, CategoryRow(name)).add(status)
        for group in status.groups:
            row = handlers.setdefault(group.group, HandlerRow(group.group))
            row.add(status.tag, group, stall_after_s)
    return sorted(categories.values(), key=lambda row: row.name), sorted(
        handlers.values(), key=lambda row: row.name
    )


def count(value: int) -> str:
    """A count in at most five characters, so a table of them fits 80 columns at any
    size: exact below 10,000, then 12.3k, 123k, 1.2M, 12M (`--json` has the exact)."""
    if value < 10_000:
        return f"{value:,}"
    scaled = float(value)
    for unit in "kMGTP":
        scaled /= 1000
        text = f"{scaled:.1f}" if scaled < 99.95 else f"{scaled:.0f}"
        if float(text) < 1000:
            return text + unit
    return f"{scaled:.0f}P"


def print_summary(console: Console, statuses: list[StreamStatus], stall_after_s: float) -> None:
    categories, handlers = summarise(statuses, stall_after_s)
    streams = Table(title="Streams", box=box.SIMPLE_HEAD, title_justify="left")
    streams.add_column("category", no_wrap=True)
    for column in ("streams", "events"):
        streams.add_column(column, justify="right", no_wrap=True)
    streams.add_column("last event", no_wrap=True)
    for row in categories:
        streams.add_row(row.name, str(row.streams), f"{row.length:,}", _when(row.last))
    console.print(streams)
    if not handlers:
        return
    groups = Table(
        title="Handlers", box=box.SIMPLE_HEAD, title_justify="left", padding=(0, 1, 0, 0)
    )
    groups.add_column("handler", no_wrap=True)
    for column in ("parts", "lag", "pend", "done", "fail", "dead", "dup"):
        groups.add_column(column, justify="right", no_wrap=True)
    for handler in handlers:
        lag = f"≥{count(handler.lag)}" if handler.lag_is_lower_bound else count(handler.lag)
        groups.add_row(
            f"{handler.name} !" if handler.stalled else handler.name,
            f"{len(handler.owned)}/{len(handler.partitions)}",
            lag,
            count(handler.pending),
            count(handler.processed),
            count(handler.failed),
            count(handler.dead_lettered),
            count(handler.duplicates),
        )
    console.print(groups)
    console.print(
        "parts: partitions with a live owner / partitions read; pend: pending, done:"
        " processed, dup: duplicates skipped (12.3k = 12,300; `--json` has exact figures)."
        " `events info --streams` lists every stream.",
        soft_wrap=False,
    )
    _print_stalls(console, handlers, stall_after_s)


def _print_stalls(console: Console, handlers: list[HandlerRow], stall_after_s: float) -> None:
    """One line per stalled handler (marked `!` above): its partitions and how long."""
    stalled = [handler for handler in handlers if handler.stalled]
    if not stalled:
        return
    console.print(
        f"! stalled: work waited over {stall_after_s:g} s (IMPRESSOX_STALL_AFTER_S)"
        " and the partition is not advancing:"
    )
    for handler in stalled:
        waits = ", ".join(f"{tag} {waited:.0f} s" for tag, waited in sorted(handler.stalled))
        console.print(f"  {handler.name}: {waits}", soft_wrap=True)


def print_streams(console: Console, statuses: list[StreamStatus], stall_after_s: float) -> None:
    """Every stream, whole on a line of its own (names are what `events read` takes),
    and under it every group on it; a stalled group is marked `!` with how long its
    work has waited."""
    for status in statuses:
        console.print(
            Text.assemble(
                (status.stream, "bold"), f"  {status.length:,} events, last {_when(status.last)}"
            ),
            soft_wrap=True,
        )
        if not status.groups:
            continue
        table = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0))
        table.add_column("handler", no_wrap=True)
        table.add_column("lag", justify="right", no_wrap=True)
        table.add_column("pending", justify="right", no_wrap=True)
        table.add_column("owner", overflow="fold")
        for group in status.groups:
            lag = f"≥{group.lag}" if group.lag_is_lower_bound else str(group.lag)
            stalled = group.stalled(stall_after_s) and group.waiting_s is not None
            name = f"{group.group} ! {group.waiting_s:.0f} s" if stalled else group.group
            table.add_row(name, lag, str(group.pending), group.owner or "-")
        console.print(Padding(table, (0, 0, 0, 2)))


def _when(position: Position | None) -> str:
    return position.time.strftime("%Y-%m-%d %H:%M:%S") if position else "-"


BOT_COLUMNS = ("connected", "messages_in", "recorded", "messages_out", "errors", "last_event_at")
BOT_HEADERS = ("connected", "in", "recorded", "out", "errors", "last event (UTC)")


def _bot_figure(raw: str) -> str:
    return count(int(raw)) if raw.isdigit() else (raw or "-")


def _bot_time(raw: str) -> str:
    """An ISO time as `2026-12-07 03:49:50` (UTC), or what came if it is not one."""
    try:
        return datetime.fromisoformat(raw).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return raw or "-"


def print_bots(console: Console, bots: dict[str, dict[str, str]]) -> None:
    """The chat bots that report their health (`bots.health`); none: one line saying so."""
    if not bots:
        console.print("Bots: none running.")
        return
    table = Table(title="Bots", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("bot", no_wrap=True)
    for column in BOT_HEADERS:
        table.add_column(column, justify="right", no_wrap=True)
    for platform, health in sorted(bots.items()):
        shown = dict(health, connected="yes" if health.get("connected") == "1" else "NO")
        figures = [_bot_figure(shown.get(column, "")) for column in BOT_COLUMNS[1:-1]]
        last = shown.get("last_event_at") or ""
        table.add_row(platform, shown["connected"], *figures, _bot_time(last))
    console.print(table)
