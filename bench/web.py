"""The web page in headless Chromium: first load, tick to chart, explorer pages, tokens.

Each figure comes with a baseline measured in the same run, in the same browser:

1. `first_load_ms`: the sign-in page opened cold, a key entered, until the first page
   is usable (median of fresh browser contexts); baseline: a blank page (`/healthz`)
   opened cold the same way. `bundle_kb`: the whole built bundle gzipped (JS and CSS,
   every page); `initial_kb`: what the first load fetches.
2. `tick_to_chart_p95_ms`: a tick appended to its stream -> the chart's last candle
   shows its price; baseline: the same tick's WebSocket frame arriving in the page.
3. `explorer_page_ms`: one 100-event page of a 1,000,000-event stream (100,000 with
   --quick) shown in the explorer's table after "Next page", by position and by time
   (medians); baseline: the same page read from the REST API alone.
4. `token_to_screen_p95_ms`: a reply's piece published -> the streamed text on screen;
   baseline: its WebSocket frame arriving in the page.

Times on both sides are the machine's wall clock (the page's `Date.now()`, ours
`time.time()`): one clock, millisecond resolution.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from playwright.async_api import Browser, Page, async_playwright

from agent.streaming import ReplyStream
from bench.browser import QUIET_FLAGS, chromium_path
from bench.common import (
    Result,
    Tick,
    arguments,
    fresh_prefix,
    impressox_process,
    note,
    quiet_logs,
    redis_server,
    report,
)
from bench.ws_fanout import mongo_server
from events.catalog import PriceTick
from events.envelope import Event
from events.redis_client import entries
from events.store import EventStore
from impressox.connections import connect_redis
from impressox.embedded.process import free_port, port_open
from impressox.services import build_services
from impressox.settings import Settings

BUNDLE = Path(__file__).resolve().parent.parent / "web" / "dist"
CHART_SYMBOL = "AAA/USDT"
"""First in the markets page's order, so its chart is the one shown."""
EXPLORED = "explored"
"""The category of the explored stream."""

LABELS = {
    "first_load_ms": "sign-in page to a usable page, cold, median (ms)",
    "blank_load_ms": "baseline: a blank page, cold, median (ms)",
    "bundle_kb": "whole bundle gzipped, every page (KB)",
    "initial_kb": "first load's JS and CSS gzipped (KB)",
    "tick_to_chart_p50_ms": "tick appended -> chart updated, p50 (ms)",
    "tick_to_chart_p95_ms": "tick appended -> chart updated, p95 (ms)",
    "tick_to_frame_p95_ms": "baseline: tick appended -> its frame in the page, p95 (ms)",
    "explorer_events": "events in the explored stream",
    "explorer_page_ms": "explorer: 100 events by position, median (ms)",
    "explorer_time_page_ms": "explorer: 100 events by time, median (ms)",
    "rest_page_ms": "baseline: the same page from the REST API, median (ms)",
    "token_to_screen_p50_ms": "reply piece published -> on screen, p50 (ms)",
    "token_to_screen_p95_ms": "reply piece published -> on screen, p95 (ms)",
    "token_to_frame_p95_ms": "baseline: reply piece published -> its frame, p95 (ms)",
}

RECORDER = """
window.__frames = [];
window.__subscribed = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', (message) => {
      const m = JSON.parse(message.data);
      if (m.type === 'subscribed') window.__subscribed.push(m.topic);
      if (m.type === 'event') window.__frames.push([m.event.payload.price, Date.now()]);
      if (m.type === 'delta') window.__frames.push([m.text, Date.now()]);
    });
  }
};
"""

WATCH_CHART = """() => {
  window.__shown = [];
  const chart = document.querySelector('[data-testid=candle-chart]');
  new MutationObserver(() => window.__shown.push([chart.dataset.lastClose, Date.now()]))
    .observe(chart, {attributes: true, attributeFilter: ['data-last-close', 'data-updated-at']});
}"""

WATCH_STREAMING = """() => {
  window.__shown = [];
  new MutationObserver(() => {
    const node = document.querySelector('[data-testid=streaming-reply]');
    if (node) window.__shown.push([node.textContent, Date.now()]);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def now_ms() -> float:
    return time.time() * 1000


def percentile(samples: list[float], percent: int) -> float:
    return round(statistics.quantiles(samples, n=100, method="inclusive")[percent - 1], 1)


def gzipped_kb(paths: list[Path]) -> float:
    return round(sum(len(gzip.compress(path.read_bytes(), 9)) for path in paths) / 1024, 1)


def bundle_sizes() -> tuple[float, float]:
    """(every asset, the assets index.html loads) gzipped, in KB."""
    assets = [p for p in (BUNDLE / "assets").iterdir() if p.suffix in (".js", ".css")]
    index = (BUNDLE / "index.html").read_text()
    initial = [BUNDLE / "assets" / name for name in re.findall(r"assets/([^\"']+)", index)]
    return gzipped_kb(assets), gzipped_kb(initial)


# -- the system: the API serving the page, the projections, keys and data ------------------


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """`impressox api` serving the built page, and `impressox projections run`."""
    port = free_port()
    api = impressox_process(
        "api", ["api"], settings, IMPRESSOX_API_PORT=str(port), IMPRESSOX_WEB_DIR=str(BUNDLE)
    )
    projections = impressox_process("projections", ["projections", "run"], settings)
    api.start()
    projections.start()
    try:
        api.wait_ready(lambda: port_open("127.0.0.1", port), timeout=120, what="the API")
        yield f"http://127.0.0.1:{port}"
    finally:
        api.stop()
        projections.stop()


async def until(check: Any, timeout_s: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise RuntimeError(f"not ready within {timeout_s}s: {check}")


def tick(symbol: str, price: float) -> Event:
    payload = PriceTick(symbol=symbol, venue="bench", price=price, source_time=datetime.now(UTC))
    return Event(key=symbol, payload=payload)


def explored(n: int) -> Event:
    """Event number `n` of the explored stream: one key, so one partition holds them all,
    in a category no read model reads (the benchmark measures reading, not projecting)."""
    payload = Tick(symbol="one", price=1 + n % 1000, volume=1.0, seq=n, sent_ns=0)
    return Event(key="one", payload=payload)


# -- the browser -----------------------------------------------------------------------------


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=chromium_path(), headless=True, args=list(QUIET_FLAGS)
        )
        try:
            yield browser
        finally:
            await browser.close()


async def signed_in(browser: Browser, url: str, key: str, path: str) -> Page:
    """A fresh context, signed in (the key in session storage), at `path`."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.add_init_script(f"sessionStorage.setItem('impressox.key', {key!r});")
    await context.add_init_script(RECORDER)
    page = await context.new_page()
    await page.goto(url + path)
    await page.get_by_role("button", name="Sign out").wait_for()
    return page


async def first_load(browser: Browser, url: str, key: str, runs: int) -> tuple[float, float]:
    """Medians of (sign-in to a usable first page, a blank page), each cold."""
    loads, blanks = [], []
    for _ in range(runs):
        context = await browser.new_context()
        page = await context.new_page()
        started = time.perf_counter()
        await page.goto(url + "/healthz")
        blanks.append((time.perf_counter() - started) * 1000)
        await context.close()
        context = await browser.new_context()
        page = await context.new_page()
        started = time.perf_counter()
        await page.goto(url + "/")
        await page.get_by_label("API key").fill(key)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("button", name="New conversation").wait_for()
        loads.append((time.perf_counter() - started) * 1000)
        await context.close()
    return round(statistics.median(loads), 1), round(statistics.median(blanks), 1)


async def latencies(page: Page, sent: dict[str, float], shown_key: str) -> list[list[float]]:
    """Per value sent: (appearance on screen - sent, frame arrival - sent) in ms."""
    shown: list[list[Any]] = await page.evaluate("window.__shown")
    frames: list[list[Any]] = await page.evaluate("window.__frames")
    pairs = []
    for value, at in sent.items():
        screen = next(t for v, t in shown if _matches(v, value, shown_key))
        frame = next(t for v, t in frames if str(v).strip() == value.strip() or
                     _number_equal(v, value))  # fmt: skip
        pairs.append([screen - at, frame - at])
    return pairs


def _matches(shown: Any, value: str, kind: str) -> bool:
    if kind == "price":
        return _number_equal(shown, value)
    return isinstance(shown, str) and shown.rstrip("▍").endswith(value.strip())


def _number_equal(found: Any, value: str) -> bool:
    try:
        return abs(float(found) - float(value)) < 1e-9
    except (TypeError, ValueError):
        return False


async def tick_to_chart(page: Page, store: EventStore, samples: int) -> Result:
    await page.get_by_test_id("candle-chart").wait_for()
    await page.wait_for_function(f"window.__subscribed.includes('prices:{CHART_SYMBOL}')")
    await page.evaluate(WATCH_CHART)
    sent: dict[str, float] = {}
    for i in range(samples):
        price = round(200 + i * 0.01, 2)
        sent[str(price)] = now_ms()
        await store.append("ticks", tick(CHART_SYMBOL, price))
        await page.wait_for_function(
            f"window.__shown.some(([close]) => Math.abs(Number(close) - {price}) < 1e-9)"
        )
        await asyncio.sleep(0.02)
    pairs = await latencies(page, sent, "price")
    screen = [a for a, _ in pairs]
    return {
        "tick_to_chart_p50_ms": percentile(screen, 50),
        "tick_to_chart_p95_ms": percentile(screen, 95),
        "tick_to_frame_p95_ms": percentile([b for _, b in pairs], 95),
    }


async def token_to_screen(
    page: Page, store: EventStore, conversation_id: str, samples: int
) -> Result:
    topic = f"conversation:{conversation_id}"
    await page.wait_for_function(f"window.__subscribed.includes({topic!r})")
    await page.evaluate(WATCH_STREAMING)
    channel = store.names.reply_channel(conversation_id)
    stream = ReplyStream(store.redis, channel, conversation_id, "m1")
    sent: dict[str, float] = {}
    for i in range(samples):
        word = f" w{i}"
        sent[word] = now_ms()
        stream.send("r1", word)
        await stream.close()
        await page.wait_for_function(
            "window.__shown.some(([text]) => text.replace('▍', '').endsWith(" + repr(word) + "))"
        )
    pairs = await latencies(page, sent, "text")
    screen = [a for a, _ in pairs]
    return {
        "token_to_screen_p50_ms": percentile(screen, 50),
        "token_to_screen_p95_ms": percentile(screen, 95),
        "token_to_frame_p95_ms": percentile([b for _, b in pairs], 95),
    }


@dataclass(frozen=True)
class Explored:
    """The explored stream, and where its middle is (by position and by time)."""

    stream: str
    events: int
    middle: str
    middle_time: datetime


async def explorer_pages(
    page: Page, url: str, key: str, explored: Explored, query: dict[str, str], *, pages: int
) -> tuple[float, float]:
    """Medians of (a next page shown in the explorer, the same page from REST)."""
    params = urlencode({"stream": explored.stream, "direction": "asc", **query})
    await page.goto(f"{url}/explorer?{params}")
    rows = page.get_by_test_id("events-table").locator("tbody tr")
    await rows.nth(99).wait_for()
    shown = []
    for _ in range(pages):
        first = await rows.first.locator("td").first.inner_text()
        started = time.perf_counter()
        await page.get_by_role("button", name="Next page").click()
        await page.wait_for_function(
            "(first) => { const rows = document.querySelectorAll("
            "'[data-testid=events-table] tbody tr');"
            " return rows.length === 100 && !rows[0].textContent.startsWith(first); }",
            arg=first,
        )
        shown.append((time.perf_counter() - started) * 1000)
    rest = []
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        request = {"stream": explored.stream, "direction": "asc", "limit": "100", **query}
        cursor = (await client.get("/v1/admin/events", params=request)).json()["next_cursor"]
        for _ in range(pages):
            started = time.perf_counter()
            answer = await client.get("/v1/admin/events", params={**request, "cursor": cursor})
            rest.append((time.perf_counter() - started) * 1000)
            cursor = answer.json()["next_cursor"]
    return round(statistics.median(shown), 1), round(statistics.median(rest), 1)


# -- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    key: str
    conversation: str
    explored: Explored


async def prepare(settings: Settings, store: EventStore, *, events: int) -> Setup:
    """An admin key, a conversation to stream a reply into, the stream to explore."""
    services = build_services(settings, store_url(settings))
    try:
        user_id = services.users.register("bench operator")
        key = services.users.issue_api_key(user_id, {"name": "bench", "scopes": ["admin"]}).token
        conversation, _ = services.conversations.receive(
            user_id, "web", "bench", {"message_id": "m1", "text": "hello"}
        )
    finally:
        services.close()
    note(f"appending {events:,} events to one stream for the explorer")
    await store.append_many(EXPLORED, (explored(n) for n in range(events // 2)), chunk=2000)
    stream = store.names.stream_for_key(EXPLORED, "one")
    ((middle, _),) = entries(await store.redis.xrevrange(stream, count=1))
    position = middle.decode()
    moment = datetime.fromtimestamp(int(position.split("-")[0]) / 1000, UTC)
    rest = (explored(n) for n in range(events // 2, events))
    await store.append_many(EXPLORED, rest, chunk=2000)
    await store.append("ticks", tick(CHART_SYMBOL, 199.0))
    return Setup(key, str(conversation), Explored(stream, events, position, moment))


def store_url(settings: Settings) -> str:
    assert settings.redis_url is not None
    return settings.redis_url


async def in_the_browser(url: str, store: EventStore, setup: Setup, *, quick: bool) -> Result:
    result: Result = {}
    key = setup.key
    async with chromium() as browser:
        note("first load")
        loaded, blank = await first_load(browser, url, key, 3 if quick else 7)
        all_kb, initial_kb = bundle_sizes()
        result.update(first_load_ms=loaded, blank_load_ms=blank)
        result.update(bundle_kb=all_kb, initial_kb=initial_kb)
        note("tick to chart")
        markets = await signed_in(browser, url, key, "/markets")
        result.update(await tick_to_chart(markets, store, 30 if quick else 200))
        await markets.context.close()
        note("explorer pages")
        explorer = await signed_in(browser, url, key, "/explorer")
        pages = 5 if quick else 20
        middle = setup.explored
        by_position, rest = await explorer_pages(
            explorer, url, key, middle, {"from": middle.middle}, pages=pages
        )
        by_time, _ = await explorer_pages(
            explorer, url, key, middle, {"start": middle.middle_time.isoformat()}, pages=pages
        )
        result.update(explorer_events=middle.events, explorer_page_ms=by_position,
                      explorer_time_page_ms=by_time, rest_page_ms=rest)  # fmt: skip
        await explorer.context.close()
        note("token to screen")
        path = f"/chat?conversation={setup.conversation}&thread=bench"
        chat = await signed_in(browser, url, key, path)
        samples = 30 if quick else 200
        result.update(await token_to_screen(chat, store, setup.conversation, samples))
    return result


async def measure(redis_url: str, mongo_url: str, data_dir: Path, *, quick: bool) -> Result:
    if not (BUNDLE / "index.html").is_file():
        raise SystemExit(f"the web page is not built ({BUNDLE}): run `make web` first")
    prefix = fresh_prefix("web")
    settings = Settings(
        stream_prefix=prefix,
        mongo_database=f"bench_{prefix.replace('-', '_')}",
        data_dir=data_dir,
        redis_url=redis_url,
        mongo_url=mongo_url,
        partitions=4,
        rate_limit_per_minute=0,
    )
    redis = await connect_redis(redis_url)
    store = EventStore(redis, settings.stream_names())
    try:
        setup = await prepare(settings, store, events=100_000 if quick else 1_000_000)
        with serving(settings) as url:
            headers = {"Authorization": f"Bearer {setup.key}"}

            async def key_works() -> bool:
                async with httpx.AsyncClient() as client:
                    answer = await client.get(url + "/v1/me", headers=headers)
                    return answer.status_code == 200

            await until(key_works)
            return await in_the_browser(url, store, setup, quick=quick)
    finally:
        await redis.aclose()


def main() -> None:
    options = arguments(__doc__.splitlines()[0] if __doc__ else "").parse_args()
    quiet_logs()
    with (
        tempfile.TemporaryDirectory(prefix="impressox-bench-web-") as data_dir,
        redis_server() as server,
        mongo_server(Path(data_dir)) as mongo_url,
    ):
        result = asyncio.run(measure(server.url, mongo_url, Path(data_dir), quick=options.quick))
    report(result, as_json=options.json, labels=LABELS)


if __name__ == "__main__":
    main()
