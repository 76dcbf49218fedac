"""Log lines as the processes of `impressox up` write them to their shared stderr."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from impressox.logging import configure_logging


class Writes(io.StringIO):
    """A stderr that keeps each write apart, as an unbuffered one hands them to the OS."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)

    def isatty(self) -> bool:
        return False


@pytest.fixture
def configuration() -> Iterator[None]:
    """structlog's configuration as it was, put back after the test."""
    before = structlog.get_config()
    yield
    structlog.configure(**before)


@pytest.mark.usefixtures("configuration")
def test_each_line_is_one_write_so_processes_sharing_stderr_never_split_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stderr = Writes()
    monkeypatch.setattr("sys.stderr", stderr)  # here: pytest sets its own before the test
    configure_logging("INFO", "json")
    structlog.get_logger("test").warning("Redis unavailable; waiting for it", pid=1)
    (line,) = stderr.calls
    assert line.endswith("\n")
    assert json.loads(line)["event"] == "Redis unavailable; waiting for it"
