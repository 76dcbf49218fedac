"""Test support for the read side: settings of a test's own, a running projector, keys.

`ProjectorThread` runs the real `ProjectionRunner` on its own event loop in a thread,
exactly as `impressox projections run` would, so API tests (whose TestClient runs the
app on another loop) see read models kept up to date by the real runtime.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from aggregates.services.bundle import Services
from events.store import EventStore
from handlers.config import RuntimeConfig
from impressox.connections import connect_mongo, connect_redis
from impressox.settings import Settings
from projections.registry import PROJECTIONS
from projections.runner import ProjectionRunner
from tests.handlers.support import FAST


def isolated_settings(prefix: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings that keep a test's streams and database apart from every other test's."""
    values: dict[str, Any] = {
        "stream_prefix": prefix,
        "mongo_database": f"db_{prefix}",
        "data_dir": data_dir,
        "partitions": 4,
        "auth_cache_s": 0.0,
        **overrides,
    }
    return Settings(**values)


class ProjectorThread:
    """Runs the projection runner for `names` (all by default) until `stop()`."""

    def __init__(
        self,
        settings: Settings,
        redis_url: str,
        mongo_url: str,
        *,
        names: list[str] | None = None,
        config: RuntimeConfig = FAST,
        poll_s: float = 0.1,
    ) -> None:
        self.settings = settings
        self.redis_url = redis_url
        self.mongo_url = mongo_url
        self.projections = [PROJECTIONS.get(n) for n in names] if names else PROJECTIONS.all()
        self.config = config
        self.poll_s = poll_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True, name="projector")
        self.error: BaseException | None = None

    def start(self) -> ProjectorThread:
        self._thread.start()
        if not self._ready.wait(30):
            self.stop()
            raise RuntimeError("projector did not start")
        return self

    def stop(self) -> None:
        """Stop it and wait: a projector left running would keep writing (and logging)
        into the tests after this one."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        if self._thread.is_alive():
            raise RuntimeError("projector did not stop within 60 s")
        if self.error is not None:
            raise self.error

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as error:  # reported by stop()
            self.error = error
            self._ready.set()

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        redis = await connect_redis(self.redis_url)
        mongo = connect_mongo(self.mongo_url)
        runner = ProjectionRunner(
            projections=self.projections,
            store=EventStore(redis, self.settings.stream_names()),
            database=mongo[self.settings.mongo_database],
            config=self.config,
            poll_s=self.poll_s,
            retire_grace=timedelta(seconds=1),
        )
        self._ready.set()
        try:
            await runner.run(self._stop)
        finally:
            await redis.aclose()
            await mongo.close()


def issue_key(services: Services, *scopes: str, name: str = "test") -> tuple[UUID, str]:
    """A new user with a key of `scopes`: (user id, token)."""
    user_id = services.users.register(f"{name} user")
    issued = services.users.issue_api_key(user_id, {"name": name, "scopes": list(scopes)})
    return user_id, issued.token
