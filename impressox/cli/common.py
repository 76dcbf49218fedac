"""What every command shares: settings, the exit-code contract, finding the servers.

Exit codes: 0 success, 1 a server could not be reached or started, 2 bad input (an
invalid setting, argument or event), 130 interrupted. Errors are one line on stderr.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer

from events.errors import ImpressoxError, InfrastructureError
from events.redis_client import RedisClient
from impressox.connections import connect_redis
from impressox.embedded.redis import EmbeddedRedis
from impressox.endpoints import DataDirLock, read_endpoints
from impressox.logging import configure_logging
from impressox.settings import Settings
from impressox.settings_loader import load_settings

T = TypeVar("T")

EXIT_INFRASTRUCTURE = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    """Print one line to stderr and exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def exit_code(error: ImpressoxError) -> int:
    return EXIT_INFRASTRUCTURE if isinstance(error, InfrastructureError) else EXIT_INPUT


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    """Settings for this command (the --config file, the environment), logging set up."""
    config: Path | None = ctx.obj.get("config") if ctx.obj else None
    try:
        settings = load_settings(config, **overrides)
    except ImpressoxError as error:
        fail(str(error), exit_code(error))
    configure_logging(settings.log_level, settings.log_format)
    return settings


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine, turning our errors into one line and an exit code."""
    try:
        return asyncio.run(coroutine)
    except ImpressoxError as error:
        fail(_first_line(str(error)), exit_code(error))
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else text


def running_urls(settings: Settings) -> tuple[str | None, str | None]:
    """Redis and MongoDB URLs: from settings, else from a system running on the data dir."""
    running = read_endpoints(settings.run_dir)
    redis_url = settings.redis_url or (running.redis_url if running else None)
    mongo_url = settings.mongo_url or (running.mongo_url if running else None)
    return redis_url, mongo_url


def require_urls(settings: Settings) -> tuple[str, str]:
    """Both URLs, or a clear error saying how to get them."""
    redis_url, mongo_url = running_urls(settings)
    if not redis_url or not mongo_url:
        missing = " and ".join(
            n for n, u in (("REDIS_URL", redis_url), ("MONGO_URL", mongo_url)) if not u
        )
        raise InfrastructureError(
            f"no {missing}: set it, or start the whole system with `impressox up`"
        )
    return redis_url, mongo_url


@contextmanager
def redis_url_for(settings: Settings) -> Iterator[str]:
    """The Redis URL for a one-off command.

    The configured REDIS_URL, else the Redis of a system running on the data directory,
    else the data directory's own Redis, started for the duration of the command.
    """
    url, _ = running_urls(settings)
    if url is not None:
        yield url
        return
    lock = DataDirLock(settings.data_dir)
    lock.acquire()
    server = EmbeddedRedis(settings.data_dir / "redis", appendfsync=settings.redis_appendfsync)
    try:
        yield server.start()
    finally:
        server.stop()
        lock.release()


@asynccontextmanager
async def redis_for(settings: Settings, *, wait: bool = False) -> AsyncIterator[RedisClient]:
    """A Redis client for a command (see `redis_url_for`); `wait` for one that runs until
    stopped, which waits for Redis rather than failing while it restarts."""
    with redis_url_for(settings) as url:
        client = await connect_redis(url, wait=wait)
        try:
            yield client
        finally:
            await client.aclose()
