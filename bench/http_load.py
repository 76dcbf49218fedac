"""An open-loop HTTP/1.1 load generator light enough to share two cores with the server.

A general-purpose client (httpx) spends about a millisecond of CPU per request, which
on this machine is CPU taken from the server it measures. This one writes a prepared
GET to a keep-alive connection and reads the answer by its Content-Length: tens of
microseconds. It is open-loop: requests are due at a fixed rate whatever the answers
do, and a request's latency runs from when it was due, so a server that falls behind
shows its queueing (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class LoadError(Exception):
    """The server answered something that is not a well-formed HTTP/1.1 response."""


@dataclass
class LoadResult:
    latencies_ns: list[int] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status != 200)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def get(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, _, headers = head.partition(b"\r\n")
        try:
            status = int(status_line.split(b" ", 2)[1])
        except (IndexError, ValueError):
            raise LoadError(f"not an HTTP status line: {status_line[:80]!r}") from None
        length = 0
        for line in headers.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status


async def open_loop(
    url: str,
    headers: dict[str, str],
    paths: list[str],
    *,
    rate: int,
    seconds: float,
    connections: int = 64,
    warmup_s: float = 2.0,
) -> LoadResult:
    """GET `paths` in turn at `rate` per second for `seconds` over `connections`, after
    `warmup_s` at the same rate that is not measured."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode() for path in paths
    ]
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(_Connection(*await asyncio.open_connection(host, port)))
    result = LoadResult()

    async def one(request: bytes, due_ns: int) -> None:
        connection = await idle.get()
        status = await connection.get(request)
        result.latencies_ns.append(time.perf_counter_ns() - due_ns)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        idle.put_nowait(connection)

    async def run_for(duration_s: float) -> None:
        interval_ns = 1_000_000_000 // rate
        tasks = []
        start_ns = time.perf_counter_ns()
        for number in range(int(rate * duration_s)):
            due = start_ns + number * interval_ns
            delay = (due - time.perf_counter_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(requests[number % len(requests)], due)))
        await asyncio.gather(*tasks)

    for request in requests:  # every path once: connections open, caches filled
        await one(request, time.perf_counter_ns())
    await run_for(warmup_s)  # the server's first second under load is not its steady state
    result = LoadResult()
    await run_for(seconds)
    while not idle.empty():
        connection = idle.get_nowait()
        connection.writer.close()
    return result
