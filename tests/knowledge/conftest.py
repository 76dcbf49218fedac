"""A real Chroma server for the tests of CHROMA_URL: `chroma run`, from the chromadb package."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from impressox.embedded.process import free_port, port_open

START_WITHIN_S = 30.0


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Chroma server for the session on a free port of 127.0.0.1."""
    executable = str(Path(sys.executable).with_name("chroma"))  # installed with chromadb
    port = free_port()
    path = tmp_path_factory.mktemp("chroma")
    with (path / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [executable, "run", "--path", str(path / "data"), "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + START_WITHIN_S
            while not port_open("127.0.0.1", port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma run did not start: see {path / 'server.log'}")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(10)
