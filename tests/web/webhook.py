"""A user's webhook for the browser tests: a local HTTP server the system delivers to.

The system runs in other processes (`impressox up`), so the receiver is a plain
threaded HTTP server: it answers each path's status (`/hook` 204, `/gone` 404) and
records what it was sent. The system allows 127.0.0.1 as a destination (see
`tests.web.system`), as an operator allows an on-premise receiver.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERS = {"/hook": 204, "/gone": 404}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    """Names in lower case."""
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """A receiver on a free port of 127.0.0.1, for the duration of the block."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            headers = {name.lower(): value for name, value in self.headers.items()}
            received.append(Received(self.path, headers, self.rfile.read(length)))
            self.send_response(ANSWERS.get(self.path, 404))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return None  # quiet: the test reads `requests`

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="webhook receiver", daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
