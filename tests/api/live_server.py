"""The API served by a real uvicorn on a free port, for tests about real sockets (the
WebSocket's back-pressure, closing codes, resuming) and for processes that call it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import uvicorn
from fastapi import FastAPI

from api.context import ApiContext
from api.live.hub import Hub
from impressox.api_app import create_app
from impressox.embedded.process import free_port
from impressox.settings import Settings


class LiveServer:
    """The app served by uvicorn on a free port, on its own event loop in a thread."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/v1/ws"
        self.http_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn")

    @property
    def hub(self) -> Hub:
        return cast(ApiContext, self.app.state.context).hub

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@contextmanager
def serving(settings: Settings, redis_url: str, mongo_url: str) -> Iterator[LiveServer]:
    server = LiveServer(create_app(settings, redis_url=redis_url, mongo_url=mongo_url)).start()
    try:
        yield server
    finally:
        server.stop()
