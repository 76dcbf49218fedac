"""`impressox up`: the whole system as one process tree on one machine.

1. Lock the data directory (one system per directory).
2. Start Redis and MongoDB unless REDIS_URL / MONGO_URL point elsewhere; then the
   chain part (`chain_part`): the local chain with our contracts unless CHAIN_RPC_URL
   names one or IMPRESSOX_CHAIN=off, or nothing, saying why.
3. On the first run, create an admin API key (printed once). Start the API, the
   projections process, one worker per handler and each chat bot whose token is set
   (Telegram, Discord), each told where the servers are; the chain watcher when a
   chain is followed, and the activity simulator on the local chain.
4. Write the endpoints file, print where to go, and watch: a child that dies is
   reaped and restarted with backoff. An embedded server comes back on its port with
   its data (`embedded.keeper`) while the others wait for it; one that cannot be
   restarted stops everything, and `up` exits non-zero saying why.
5. On Ctrl-C or SIGTERM, stop in dependency order: workers and API first (they finish
   in-flight work), then the chain, MongoDB, Redis; remove the endpoints file, unlock.

Every child dies with the supervisor even if it is SIGKILLed (see `embedded.process`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import structlog

from api.web_page import locate_bundle
from events.backoff import Backoff
from events.errors import ConfigurationError, InfrastructureError
from handlers.declaration import HANDLERS
from impressox.bootstrap import DEMO_RULE, ensure_admin_key, ensure_demo, ensure_demo_chain
from impressox.chain_part import ChainPart, start_chain
from impressox.cli.common import EXIT_INPUT
from impressox.connections import redact
from impressox.embedded.keeper import ServerKeeper
from impressox.embedded.mongo import EmbeddedMongo
from impressox.embedded.process import ChildProcess, free_port
from impressox.embedded.redis import EmbeddedRedis
from impressox.endpoints import DataDirLock, Endpoints, remove_endpoints, write_endpoints
from impressox.modules import load_handlers
from impressox.settings import CONFIG_ENV, Settings
from sources.registry import SOURCES

log = structlog.get_logger(__name__)

RESTART_BACKOFF = Backoff(1.0, 30.0)
"""A child that keeps dying is restarted after 1 s, doubling to 30 s."""
API_READY_TIMEOUT_S = 180.0
"""Generous: the API starts while a dozen other processes import at the same time, which
takes minutes on a loaded two-core machine. A child that exits fails the start at once."""


@dataclass
class _App:
    """An application child (API or worker) and its restart bookkeeping."""

    child: ChildProcess
    restarts: int = 0
    restart_at: float | None = None
    started_at: float = field(default_factory=time.monotonic)
    finite: bool = False
    """It may finish (a replay): a clean exit is the end of its work, not a death."""
    refused: bool = False
    """It exited refusing its configuration (exit 2): left stopped, not restarted."""


class Supervisor:
    """Starts, watches and stops the system's processes."""

    def __init__(self, settings: Settings, config_file: Path | None = None) -> None:
        self.settings = settings
        self.config_file = config_file.resolve() if config_file else None
        self.lock = DataDirLock(settings.data_dir)
        self.redis: EmbeddedRedis | None = None
        self.mongo: EmbeddedMongo | None = None
        self.keepers: list[ServerKeeper] = []
        self.apps: dict[str, _App] = {}
        self.admin_token: str | None = None
        self.demo_token: str | None = None
        self.chain = ChainPart("off", why_off="not started")
        self.demo_wallet_watched = False
        self.process_group = 0
        """The system's process group: the first child starts it, the others join it."""
        self._signals = 0

    def run(self) -> None:
        """Run until a signal arrives; raises our errors when something cannot start."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        self.lock.acquire()
        try:
            endpoints = self._start()
            write_endpoints(self.settings.run_dir, endpoints)
            self._announce(endpoints)
            while not self._signals:
                self._watch()
                time.sleep(0.2)
        finally:
            self._stop()
            remove_endpoints(self.settings.run_dir)
            self.lock.release()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals == 1:
            print("\nStopping Impressox (Ctrl-C again to stop at once)...", file=sys.stderr)

    def _start(self) -> Endpoints:
        settings = self.settings
        workers = self._worker_names()
        sources = self._source_names()
        redis_url = settings.redis_url
        if redis_url is None:
            self.redis = EmbeddedRedis(
                settings.data_dir / "redis",
                port=settings.embedded_redis_port,
                appendfsync=settings.redis_appendfsync,
            )
            redis_url = self.redis.start()
            self._join(self.redis.child)
            self.keepers.append(ServerKeeper("Redis", self.redis))
        mongo_url = settings.mongo_url
        if mongo_url is None:
            self.mongo = EmbeddedMongo(
                settings.data_dir / "mongo",
                port=settings.embedded_mongo_port,
                process_group=self.process_group,
            )
            mongo_url = self.mongo.start()
            self._join(self.mongo.child)
            self.keepers.append(ServerKeeper("MongoDB", self.mongo))
        self._start_chain()
        self.admin_token = ensure_admin_key(settings, redis_url)
        if settings.demo:
            self.demo_token = ensure_demo(settings, redis_url)
            self._watch_demo_wallet(redis_url)
        api_port = settings.api_port or free_port(settings.api_host)
        env = self._child_env(redis_url, mongo_url, api_port)
        api_url = f"http://{settings.api_host}:{api_port}"
        self.apps["api"] = _App(ChildProcess("api", self._command("api"), log_path=None, env=env))
        self.apps["projections"] = _App(
            ChildProcess("projections", self._command("projections", "run"), log_path=None, env=env)
        )
        for name in workers:
            argv = self._command("worker", name)
            self.apps[f"worker:{name}"] = _App(
                ChildProcess(f"worker {name}", argv, log_path=None, env=env)
            )
        for platform, token in (
            ("telegram", settings.telegram_bot_token),
            ("discord", settings.discord_bot_token),
        ):
            if token is not None:
                argv = self._command("bots", platform)
                self.apps[f"bot:{platform}"] = _App(
                    ChildProcess(f"bot {platform}", argv, log_path=None, env=env)
                )
        self._add_chain_apps(env)
        for name in sources:
            argv = self._command("sources", "run", name, "--status-every", "0")
            self.apps[f"source:{name}"] = _App(
                ChildProcess(f"source {name}", argv, log_path=None, env=env),
                finite=not SOURCES[name].live,
            )
        for app in self.apps.values():
            app.child.process_group = self.process_group
            app.child.start()
            self._join(app.child)
        self._wait_for_api(api_url)
        return Endpoints(redis_url=redis_url, mongo_url=mongo_url, api_url=api_url, pid=os.getpid())

    def _start_chain(self) -> None:
        self.chain = start_chain(self.settings, process_group=self.process_group)
        if self.chain.node is not None:
            self._join(self.chain.node.child)
            self.keepers.append(ServerKeeper("the local chain", self.chain.node, essential=False))

    def _watch_demo_wallet(self, redis_url: str) -> None:
        if self.chain.demo_wallet is not None:
            self.demo_wallet_watched = ensure_demo_chain(
                self.settings, redis_url, self.chain.demo_wallet
            )

    def _add_chain_apps(self, env: dict[str, str]) -> None:
        """The watcher on any chain followed; the simulator on the local one only."""
        if self.chain.watched:
            argv = self._command("chain", "watch")
            self.apps["chain:watcher"] = _App(
                ChildProcess("chain watcher", argv, log_path=None, env=env)
            )
        if self.chain.simulated:
            every = str(self.settings.chain_simulate_every_s)
            argv = self._command("chain", "simulate", "--every", every, "--quiet")
            self.apps["chain:simulator"] = _App(
                ChildProcess("chain simulator", argv, log_path=None, env=env)
            )

    def _join(self, child: ChildProcess | None) -> None:
        if not self.process_group and child is not None and child.pid is not None:
            self.process_group = os.getpgid(child.pid)

    def _worker_names(self) -> list[str]:
        load_handlers(self.settings.modules)
        registered = HANDLERS.names()
        wanted = self.settings.workers if self.settings.workers is not None else registered
        unknown = sorted(set(wanted) - set(registered))
        if unknown:
            raise ConfigurationError(
                f"invalid setting IMPRESSOX_WORKERS: no handler named {', '.join(unknown)}"
                f" (registered: {', '.join(registered) or 'none'})"
            )
        return list(wanted)

    def _source_names(self) -> list[str]:
        unknown = sorted(set(self.settings.sources) - set(SOURCES))
        if unknown:
            raise ConfigurationError(
                f"invalid setting IMPRESSOX_SOURCES: no price source named {', '.join(unknown)}"
                f" (there are: {', '.join(SOURCES)})"
            )
        if "replay" in self.settings.sources and self.settings.replay_file is None:
            raise ConfigurationError(
                "IMPRESSOX_SOURCES names replay but IMPRESSOX_REPLAY_FILE is not set"
            )
        return list(dict.fromkeys(self.settings.sources))

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "impressox", *args]

    def _child_env(self, redis_url: str, mongo_url: str, api_port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            REDIS_URL=redis_url,
            MONGO_URL=mongo_url,
            IMPRESSOX_API_PORT=str(api_port),
            IMPRESSOX_DATA_DIR=str(self.settings.data_dir.resolve()),
        )
        if self.chain.rpc_url is not None:
            env["CHAIN_RPC_URL"] = self.chain.rpc_url
        if self.config_file:
            env[CONFIG_ENV] = str(self.config_file)
        return env

    def _wait_for_api(self, api_url: str) -> None:
        api = self.apps["api"].child
        api.wait_ready(
            lambda: _healthy(api_url), timeout=API_READY_TIMEOUT_S, what=f"the API at {api_url}"
        )

    def _announce(self, endpoints: Endpoints) -> None:
        data = self.settings.data_dir.resolve()
        redis_note = f"embedded, data in {data / 'redis'}" if self.redis else "external"
        mongo_note = f"embedded, data in {data / 'mongo'}" if self.mongo else "external"
        workers = [name.split(":", 1)[1] for name in self.apps if name.startswith("worker:")]
        running = [app.split(":", 1)[1] for app in self.apps if app.startswith("source:")]
        prices = [
            name + (" (simulated prices)" if SOURCES[name].simulated else "")
            for name in running
            if SOURCES[name].category == "ticks"
        ]
        posts = [name for name in running if SOURCES[name].category == "posts"]
        bots = [name.split(":", 1)[1] for name in self.apps if name.startswith("bot:")]
        print(
            "\nImpressox is up.\n"
            f"  Web      {self._web_note(endpoints.api_url)}\n"
            f"  API      {endpoints.api_url}   (docs: {endpoints.api_url}/docs)\n"
            f"  Redis    {redact(endpoints.redis_url)}   ({redis_note})\n"
            f"  MongoDB  {redact(endpoints.mongo_url)}   ({mongo_note})\n"
            f"  Workers  {', '.join(workers) or 'none registered yet'}\n"
            f"  Prices   {', '.join(prices) or 'no price source (see IMPRESSOX_SOURCES)'}\n"
            f"  Posts    {', '.join(posts) or 'no post source (see IMPRESSOX_SOURCES)'}\n"
            f"  Chain    {self.chain.banner(self.settings)}\n"
            f"  Bots     {', '.join(bots) or NO_BOTS}\n"
            f"{self._admin_note()}"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )

    def _web_note(self, api_url: str) -> str:
        """Where the page is, or why it is not there (the API runs either way)."""
        bundle = locate_bundle(self.settings.web_dir)
        if bundle.missing is None:
            return f"{api_url}/   (sign in with a key below)"
        if self.settings.web_dir is None and shutil.which("npm") is None:
            return "web page not built: Node.js and npm are not installed (then `make web`)"
        return f"web page not built: {bundle.missing}"

    def _admin_note(self) -> str:
        note = ""
        if self.admin_token is not None:
            note += (
                "\n  First run: an admin API key was created. It is shown this once; keep it:\n"
                f"    {self.admin_token}\n"
                "  (more keys: `impressox keys create --help`)\n"
            )
        if self.demo_token is not None:
            note += (
                f"\n  A demo trader was created with the rule {DEMO_RULE['name']!r};"
                " its alerts arrive\n  within a minute. Watch them with its key (shown once):\n"
                f"    {_program()} alerts watch --key {self.demo_token}\n"
            )
        if self.demo_wallet_watched:
            note += (
                f"\n  The demo trader watches the simulated wallet {self.chain.demo_wallet};"
                " an alert on\n  its transfers arrives within a minute too.\n"
            )
        return note + "\n" if note else ""

    def _watch(self) -> None:
        for keeper in list(self.keepers):
            try:
                back = keeper.check(self.process_group)
            except InfrastructureError as error:
                if keeper.essential:
                    raise
                self._without(keeper, error)
                continue
            if back:
                self._restart_waiting_apps()
        now = time.monotonic()
        for name, app in self.apps.items():
            if app.child.running() or (app.finite and app.child.exit_code() == 0) or app.refused:
                continue
            if app.child.exit_code() == EXIT_INPUT:
                # Its configuration was refused (its one line is on stderr above): the same
                # environment would be refused again, so it is not restarted.
                app.refused = True
                log.error(
                    "process refused its configuration; not restarted (fix it, then restart)",
                    process=name,
                    exit_code=EXIT_INPUT,
                )
                continue
            if app.restart_at is None:
                ran_for = now - app.started_at
                app.restarts = 0 if ran_for > 60 else app.restarts + 1
                delay = RESTART_BACKOFF.delay_s(app.restarts + 1)
                app.restart_at = now + delay
                log.error(
                    "process exited; restarting",
                    process=name,
                    exit_code=app.child.exit_code(),
                    restart_in_s=delay,
                )
            elif now >= app.restart_at:
                app.child.start()
                self._join(app.child)
                app.started_at, app.restart_at = now, None

    def _without(self, keeper: ServerKeeper, error: InfrastructureError) -> None:
        """A server the system can run without (the local chain) could not be restarted:
        its part stops (the apps that follow it), the rest runs on, and the log says so."""
        self.keepers.remove(keeper)
        for name in [name for name in self.apps if name.startswith("chain:")]:
            self.apps.pop(name).child.stop()
        log.error(
            f"{str(error).splitlines()[0]}; the chain part is off, the rest runs on",
            log=str(keeper.server.data_dir / keeper.server.log_name),
        )

    def _restart_waiting_apps(self) -> None:
        """A server is back: what died while it was away starts again now, not after the
        backoff its deaths built up."""
        now = time.monotonic()
        for app in self.apps.values():
            if app.restart_at is not None:
                app.restart_at, app.restarts = now, 0

    def _stop(self) -> None:
        """Stop applications first, in parallel, then the databases they write to."""
        for app in self.apps.values():
            if app.child.running() and app.child.process:
                app.child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.settings.shutdown_timeout_s + 5
        for app in self.apps.values():
            while app.child.running() and time.monotonic() < deadline and self._signals < 2:
                time.sleep(0.05)
            app.child.stop(timeout=0)
        if self.chain.node:
            self.chain.node.stop()
        if self.mongo:
            self.mongo.stop()
        if self.redis:
            self.redis.stop()


NO_BOTS = "none (set IMPRESSOX_TELEGRAM_BOT_TOKEN or IMPRESSOX_DISCORD_BOT_TOKEN)"


def _program() -> str:
    """How this command was invoked (``.venv/bin/impressox`` under `make run`), so a
    printed command works as printed."""
    invoked = Path(sys.argv[0])
    return shlex.quote(str(invoked)) if invoked.name == "impressox" else "impressox"


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/healthz", timeout=1) as response:  # noqa: S310 - our own URL
            return bool(response.status == 200)
    except OSError:
        return False
