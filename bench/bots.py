"""Benchmark: the chat bots, Discord and Telegram, measured in the same run.

    python -m bench.bots --json [--quick]

The bots run as the ``impressox bots discord`` / ``impressox bots telegram`` processes
``impressox up`` starts, against local platform servers speaking the real protocols
(the tests' Discord gateway and REST server, and Telegram Bot API server), on a private
Redis and SecantusDB, with the projections running.

- ``discord_msgs_per_s``: the gateway sends DMs from `USERS` linked users as fast as it
  can; the time until every one is recorded on its conversation (the conversations log
  has grown by as many turns). ``telegram_msgs_per_s``: the same, the updates waiting
  for the bot's long poll.
- ``record_only_msgs_per_s`` (baseline): the same number of messages recorded through
  the Conversations application directly, from as many threads as there are users:
  what recording costs without a bot.
- ``discord_reply_p95_ms`` / ``telegram_reply_p95_ms``: a message sent by the platform
  server -> the agent's reply (offline model) received by the server, one message after
  another; the agent and agent-replies workers run as processes.
- ``agent_turn_p95_ms`` (baseline): a message recorded through the Conversations
  application -> the reply appended to the log, without bots or delivery.

The platform servers share the machine with what they measure: on a busy two-core box,
the figures are lower bounds.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from aggregates.channels import DiscordChannel, TelegramChannel
from aggregates.services.bundle import Services
from bench.common import (
    Result,
    arguments,
    fresh_prefix,
    impressox_process,
    note,
    percentile_ms,
    quiet_logs,
    redis_server,
    report,
    run_fast,
)
from bench.ws_fanout import mongo_server
from bots.accounts import ChatAccounts, ChatIdentity
from events.catalog import PriceTick
from events.envelope import Event
from events.names import StreamNames
from events.redis_client import entries
from events.store import EventStore
from impressox.connections import connect_redis
from impressox.embedded.process import ChildProcess
from impressox.services import build_services
from impressox.settings import Settings
from tests.bots.discord_server import DiscordServer, dm_channel
from tests.bots.servers import TelegramChats
from tests.notify.servers import serving

LABELS = {
    "messages": "messages sent per platform (throughput)",
    "discord_msgs_per_s": "Discord: DMs recorded per second (gateway sending flat out)",
    "telegram_msgs_per_s": "Telegram: messages recorded per second (updates waiting)",
    "record_only_msgs_per_s": "baseline: Conversations.receive directly, per second",
    "replies": "replies measured per platform",
    "discord_reply_p50_ms": "Discord: DM sent -> reply received by the server, p50",
    "discord_reply_p95_ms": "Discord: DM sent -> reply received by the server, p95",
    "telegram_reply_p50_ms": "Telegram: message written -> reply received, p50",
    "telegram_reply_p95_ms": "Telegram: message written -> reply received, p95",
    "agent_turn_p95_ms": "baseline: message recorded -> reply appended (no bot), p95",
}
USERS = 20
"""Linked users writing at once: the Discord bot handles one message per channel at a
time, so its throughput needs several channels."""
PRICES = {"BTC/USDT": 101_234.5, "ETH/USDT": 3_012.4, "SOL/USDT": 187.2}
QUESTIONS = ("price of ETH", "price of BTC", "price of SOL", "list my alerts")
POLL_S = 0.002
DISCORD_USER = 210_000_000_000_000_000
TELEGRAM_CHAT = 7_000


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll `check` every `POLL_S` until it holds (the platform servers record what they
    receive; they do not signal it)."""
    while True:
        if await check():
            return
        await asyncio.sleep(POLL_S)


async def grown(size: Callable[[], int], seen: int) -> None:
    """Until `size()` is over `seen`: one more request arrived."""

    async def more() -> bool:
        return size() > seen

    await until(more)


@contextmanager
def processes(*children: ChildProcess) -> Iterator[None]:
    with ExitStack() as stack:
        for child in children:
            child.start()
            stack.callback(child.stop)
        yield


class Bench:
    def __init__(self, settings: Settings, services: Services, store: EventStore) -> None:
        self.settings = settings
        self.services = services
        self.store = store
        self.log = store.names.notification_log(StreamNames.application_tag("conversations"))

    async def seed(self) -> None:
        now = datetime.now(UTC)
        for symbol, price in PRICES.items():
            tick = PriceTick(symbol=symbol, venue="binance", price=price, source_time=now)
            await self.store.append("ticks", Event(key=symbol, payload=tick))

    async def users(self, platform: str, count: int) -> list[str]:
        """`count` users linked on `platform`: their Discord ids or Telegram chat ids."""
        accounts = ChatAccounts(self.services.users)
        chats = []
        for number in range(count):
            user_id = await asyncio.to_thread(self.services.users.register, f"bench {number}")
            if platform == "discord":
                chat = str(DISCORD_USER + number)
                channel: DiscordChannel | TelegramChannel = DiscordChannel(target="dm", id=chat)
            else:
                chat = str(TELEGRAM_CHAT + number)
                channel = TelegramChannel(chat_id=int(chat))
            identity = ChatIdentity(platform, chat, channel)  # type: ignore[arg-type]
            await asyncio.to_thread(accounts.link, user_id, identity, [])
            chats.append(chat)
        return chats

    def child(self, discord: DiscordServer, telegram: TelegramChats) -> Callable[..., ChildProcess]:
        """Starts `impressox ARGV` processes on this system, pointed at the platforms."""
        platform = _platform(discord, telegram)

        def start(name: str, *argv: str) -> ChildProcess:
            return impressox_process(name, list(argv), self.settings, **platform)

        return start

    async def turns_logged(self) -> int:
        return int(await self.store.redis.xlen(self.log))

    async def until_logged(self, count: int) -> None:
        async def logged() -> bool:
            return await self.turns_logged() >= count

        await until(logged)


async def discord_throughput(
    bench: Bench, discord: DiscordServer, users: list[str], n: int
) -> float:
    warm = await bench.turns_logged()
    for user in users:  # each conversation started before timing: started + a turn
        await discord.dm(user, "hello")
    await bench.until_logged(warm + 2 * len(users))
    before = await bench.turns_logged()
    started = time.perf_counter()
    for number in range(n):
        await discord.dm(users[number % len(users)], f"note {number}")
    await bench.until_logged(before + n)
    return round(n / (time.perf_counter() - started), 1)


async def telegram_throughput(
    bench: Bench, telegram: TelegramChats, chats: list[str], n: int
) -> float:
    warm = await bench.turns_logged()
    for chat in chats:
        await telegram.write(int(chat), "hello")
    await bench.until_logged(warm + 2 * len(chats))
    before = await bench.turns_logged()
    started = time.perf_counter()
    for number in range(n):
        await telegram.write(int(chats[number % len(chats)]), f"note {number}")
    await bench.until_logged(before + n)
    return round(n / (time.perf_counter() - started), 1)


async def record_only(bench: Bench, n: int, users: int) -> float:
    ids = [await asyncio.to_thread(bench.services.users.register, f"b{i}") for i in range(users)]
    conversations = bench.services.conversations

    def write(user_id: UUID, count: int, offset: int) -> None:
        for number in range(count):
            message = {"message_id": f"r{offset}-{number}", "text": f"note {number}"}
            conversations.receive(user_id, "web", "bench", message)

    for index, user_id in enumerate(ids):  # conversations started before timing
        await asyncio.to_thread(write, user_id, 1, -index - 1)
    started = time.perf_counter()
    await asyncio.gather(
        *(asyncio.to_thread(write, user_id, n // users, i) for i, user_id in enumerate(ids))
    )
    return round((n // users) * users / (time.perf_counter() - started), 1)


async def discord_replies(discord: DiscordServer, user: str, count: int) -> list[int]:
    channel = dm_channel(user)
    samples = []
    for number in range(count + 1):
        seen = len(discord.sent_to(channel))
        started = time.perf_counter_ns()
        await discord.dm(user, QUESTIONS[number % len(QUESTIONS)])
        await grown(lambda: len(discord.sent_to(channel)), seen)
        if number:  # the first one warms the agent's graph up
            samples.append(time.perf_counter_ns() - started)
    return samples


async def telegram_replies(telegram: TelegramChats, chat: str, count: int) -> list[int]:
    samples = []
    for number in range(count + 1):
        seen = len(telegram.sent(int(chat)))
        started = time.perf_counter_ns()
        await telegram.write(int(chat), QUESTIONS[number % len(QUESTIONS)])
        await grown(lambda: len(telegram.sent(int(chat))), seen)
        if number:
            samples.append(time.perf_counter_ns() - started)
    return samples


async def agent_turns(bench: Bench, count: int) -> list[int]:
    user_id = await asyncio.to_thread(bench.services.users.register, "bench agent")
    samples = []
    for number in range(count + 1):
        newest = entries(await bench.store.redis.xrevrange(bench.log, count=1))
        last = newest[0][0] if newest else b"0"
        message = {"message_id": f"a{number}", "text": QUESTIONS[number % len(QUESTIONS)]}
        started = time.perf_counter_ns()
        await asyncio.to_thread(bench.services.conversations.receive, user_id, "web", "b", message)
        await _replied(bench, last)
        if number:
            samples.append(time.perf_counter_ns() - started)
    return samples


async def _replied(bench: Bench, after: bytes) -> None:
    """Until a ``conversation.replied`` follows entry `after` in the log."""

    async def replied() -> bool:
        found = entries(await bench.store.redis.xrange(bench.log, b"(" + after, "+"))
        return any(fields.get(b"type") == b"conversation.replied" for _, fields in found)

    await until(replied)


async def measure(redis_url: str, mongo_url: str, data_dir: Path, *, quick: bool) -> Result:
    """Throughput, then latency, each on a system of its own (a fresh prefix and
    database): the agent must not be answering the throughput phase's messages while
    reply times are measured."""
    messages, replies = (400, 20) if quick else (2000, 100)
    discord, telegram = DiscordServer(), TelegramChats()
    result: Result = {"messages": messages}
    async with serving(discord.app(), discord), serving(telegram.app(), telegram):
        async with system(redis_url, mongo_url, data_dir, "bots") as bench:
            result |= await throughput(bench, discord, telegram, messages)
        discord.forget_bot()
        telegram.updates.clear()
        async with system(redis_url, mongo_url, data_dir, "replies") as bench:
            result |= await latency(bench, discord, telegram, replies)
    return result


@asynccontextmanager
async def system(
    redis_url: str, mongo_url: str, data_dir: Path, phase: str
) -> AsyncIterator[Bench]:
    settings = Settings(
        redis_url=redis_url,
        mongo_url=mongo_url,
        stream_prefix=fresh_prefix(phase),
        mongo_database=f"bench_{phase}_{time.time_ns() % 10**9}",
        data_dir=data_dir,
    )
    services = build_services(settings, redis_url)
    redis = await connect_redis(redis_url)
    try:
        bench = Bench(settings, services, EventStore(redis, settings.stream_names()))
        await bench.seed()
        yield bench
    finally:
        services.close()
        await redis.aclose()


async def throughput(
    bench: Bench, discord: DiscordServer, telegram: TelegramChats, messages: int
) -> Result:
    discord_users = await bench.users("discord", USERS)
    telegram_chats = await bench.users("telegram", USERS)
    child = bench.child(discord, telegram)
    result: Result = {}
    with processes(child("projections", "projections", "run")):
        await asyncio.sleep(3)  # the users read model catches up with the links
        note("throughput: baseline")
        result["record_only_msgs_per_s"] = await record_only(bench, messages, USERS)
        with processes(child("bot-discord", "bots", "discord")):
            await discord.connected(within=120)
            note("throughput: Discord")
            result["discord_msgs_per_s"] = await discord_throughput(
                bench, discord, discord_users, messages
            )
        with processes(child("bot-telegram", "bots", "telegram")):
            note("throughput: Telegram")
            result["telegram_msgs_per_s"] = await telegram_throughput(
                bench, telegram, telegram_chats, messages
            )
    return result


async def latency(
    bench: Bench, discord: DiscordServer, telegram: TelegramChats, replies: int
) -> Result:
    [discord_user] = await bench.users("discord", 1)
    [telegram_chat] = await bench.users("telegram", 1)
    child = bench.child(discord, telegram)
    workers = (
        child("projections-2", "projections", "run"),
        child("agent", "worker", "agent"),
        child("agent-replies", "worker", "agent-replies"),
    )
    with processes(*workers):
        await asyncio.sleep(3)
        note("latency: agent turns (baseline)")
        agent = await agent_turns(bench, replies)
        with processes(child("bot-discord-2", "bots", "discord")):
            await discord.connected(within=120)
            note("latency: Discord")
            discord_samples = await discord_replies(discord, discord_user, replies)
        with processes(child("bot-telegram-2", "bots", "telegram")):
            note("latency: Telegram")
            telegram_samples = await telegram_replies(telegram, telegram_chat, replies)
    result: Result = {"replies": replies}
    for name, samples in (("discord", discord_samples), ("telegram", telegram_samples)):
        result[f"{name}_reply_p50_ms"] = percentile_ms(samples, 50)
        result[f"{name}_reply_p95_ms"] = percentile_ms(samples, 95)
    result["agent_turn_p95_ms"] = percentile_ms(agent, 95)
    return result


def _platform(discord: DiscordServer, telegram: TelegramChats) -> dict[str, str]:
    return {
        "IMPRESSOX_DISCORD_BOT_TOKEN": discord.token,
        "IMPRESSOX_DISCORD_API_URL": f"{discord.url}/api/v10",
        "IMPRESSOX_DISCORD_GATEWAY_URL": discord.gateway_url,
        "IMPRESSOX_TELEGRAM_BOT_TOKEN": telegram.token,
        "IMPRESSOX_TELEGRAM_API_URL": f"{telegram.url}/bot",
    }


def main() -> None:
    parser = arguments(__doc__.splitlines()[0] if __doc__ else "")
    options = parser.parse_args()
    quiet_logs()
    with (
        tempfile.TemporaryDirectory(prefix="impressox-bench-bots-") as data_dir,
        redis_server() as server,
        mongo_server(Path(data_dir)) as mongo_url,
    ):
        result = run_fast(measure(server.url, mongo_url, Path(data_dir), quick=options.quick))
    report(result, as_json=options.json, labels=LABELS)


if __name__ == "__main__":
    main()
