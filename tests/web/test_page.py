"""The web page in a real headless Chromium against the real system (`impressox up` on
the session's Redis and MongoDB): what a trader and an operator do, end to end.

Each test keeps a screenshot of what it ended on (test-artifacts/web/).
"""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil
import pytest
import redis
from playwright.sync_api import Page, expect

from events.catalog import PriceTick
from events.envelope import Event
from events.names import StreamNames
from events.store import EventStore
from impressox.connections import connect_redis
from tests.web.browser import sign_in
from tests.web.conftest import PHONE, screenshot
from tests.web.system import System
from tests.web.webhook import webhook_receiver

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]  # a whole system and a browser

TRADER_PAGES = ("chat", "markets", "alerts", "watches")
ADMIN_PAGES = ("explorer", "aggregates", "handlers", "read-models")


def tick(
    system: System, symbol: str, price: float, venue: str = "e2e", at: datetime | None = None
) -> None:
    """One tick through the ingest API (the admin key may ingest), by default of now."""
    event = {"type": "price.tick", "payload": {
        "symbol": symbol, "venue": venue, "price": price, "volume": 1.0,
        "source_time": (at or datetime.now(UTC)).isoformat()}}  # fmt: skip
    response = system.api("POST", "/v1/events/ticks", json={"events": [event]})
    assert response.status_code == 200, response.text


def test_a_wrong_key_is_refused_in_the_apis_words_and_a_right_one_opens_the_page(
    page: Page, system: System
) -> None:
    page.goto(system.url + "/markets")  # a page path: the page, which asks for a key
    page.get_by_label("API key").fill("ixk_0000000000000000_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("401")
    screenshot(page, "sign-in-refused")
    page.get_by_label("API key").fill(system.trader_key)
    page.get_by_role("button", name="Sign in").click()
    nav = page.get_by_role("navigation", name="Pages")
    expect(nav.get_by_role("link", name="Chat")).to_be_visible()
    expect(nav.get_by_role("link", name="Streams")).to_have_count(0)  # not the trader's
    assert "ixk_" not in page.url
    assert page.evaluate("sessionStorage.getItem('impressox.key')") == system.trader_key


def test_chat_streams_the_reply_then_shows_the_recorded_one(page: Page, system: System) -> None:
    sign_in(page, system.url, system.trader_key)
    page.get_by_role("link", name="Chat").click()
    page.get_by_role("button", name="New conversation").click()
    page.get_by_label("Message").fill("price of ETH")
    page.get_by_role("button", name="Send").click()
    agent = page.locator(".message.agent:not(.streaming)")
    expect(agent.first).to_contain_text("ETH/USDT", timeout=30_000)
    # The thread is followed now: record every streamed piece the next reply shows.
    page.evaluate("""() => {
        window.__streamed = [];
        new MutationObserver(() => {
            for (const node of document.querySelectorAll('[data-testid=streaming-reply]'))
                window.__streamed.push(node.textContent);
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    page.get_by_label("Message").fill("list my alerts")
    page.get_by_role("button", name="Send").click()
    expect(agent).to_have_count(2, timeout=30_000)
    streamed: list[str] = page.evaluate("window.__streamed")
    final = agent.nth(1).locator(".text").inner_text()
    assert streamed, "no piece of the reply was shown while it was written"
    assert all(final.startswith(piece.rstrip("▍").strip()) for piece in streamed)
    expect(page.locator(".message.tool summary").first).to_be_visible()  # tool steps, folded
    screenshot(page, "chat")


RECORD_CLOSES = """() => {
    window.__closes = [];
    const chart = document.querySelector('[data-testid=candle-chart]');
    new MutationObserver(() => window.__closes.push(chart.getAttribute('data-last-close')))
        .observe(chart, {attributes: true, attributeFilter: ['data-last-close']});
}"""


def test_the_chart_shows_one_venues_candles_and_follows_only_its_ticks(
    page: Page, system: System
) -> None:
    tick(system, "ARB/USDT", 1.0, venue="e2e")
    tick(system, "ARB/USDT", 50.0, venue="other")
    sign_in(page, system.url, system.trader_key)
    page.get_by_role("link", name="Markets").click()
    page.get_by_role("button", name="Chart ARB/USDT on other").click()
    chart = page.get_by_test_id("candle-chart")
    expect(page.get_by_role("region", name="ARB/USDT on other, one-minute candles")).to_be_visible()
    expect(chart).to_have_attribute("data-last-close", "50")
    page.get_by_label("Venue").select_option("e2e")
    expect(chart).to_have_attribute("aria-label", "ARB/USDT candles on e2e")
    expect(chart).to_have_attribute("data-last-close", "1")
    page.evaluate(RECORD_CLOSES)
    tick(system, "ARB/USDT", 60.0, venue="other")  # another market: not this chart's
    tick(system, "ARB/USDT", 1.5, venue="e2e")
    expect(chart).to_have_attribute("data-last-close", "1.5")
    assert "60" not in page.evaluate("window.__closes")
    screenshot(page, "markets-venue")


def test_a_late_tick_redraws_its_earlier_candle_without_a_page_error(
    page: Page, system: System
) -> None:
    page.add_init_script(RECORD_FRAMES)  # to know when the page follows the prices
    earlier = datetime.now(UTC) - timedelta(minutes=2)
    tick(system, "LATE/USDT", 1.0, at=earlier)
    tick(system, "LATE/USDT", 2.0)
    sign_in(page, system.url, system.trader_key)
    page.get_by_role("link", name="Markets").click()
    page.get_by_role("button", name="Chart LATE/USDT on e2e").click()
    chart = page.get_by_test_id("candle-chart")
    expect(chart).to_have_attribute("data-last-close", "2")
    page.wait_for_function("window.__subscribed.includes('prices:LATE/USDT')")
    tick(system, "LATE/USDT", 3.0)  # the chart follows the feed...
    expect(chart).to_have_attribute("data-last-close", "3")
    tick(system, "LATE/USDT", 9.0, at=earlier + timedelta(seconds=1))  # ...then one comes late
    expect(chart).to_have_attribute("data-late-close", "9")
    tick(system, "LATE/USDT", 4.0)
    expect(chart).to_have_attribute("data-last-close", "4")  # and the page lives on


def test_a_rule_made_in_the_form_fires_and_its_alert_arrives_live(
    page: Page, system: System
) -> None:
    sign_in(page, system.url, system.trader_key)
    page.get_by_role("link", name="Alerts").click()
    page.get_by_role("button", name="New rule").click()
    form = page.get_by_role("form", name="Alert rule")
    form.get_by_label("Name").fill("ETH over 4k")
    form.get_by_label("Symbol (BASE/QUOTE)").fill("eth/usdt")
    form.get_by_role("button", name="Create rule").click()
    expect(form.get_by_label("Threshold", exact=True)).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Threshold", exact=True).fill("4000")
    form.get_by_role("button", name="Create rule").click()
    rule = page.get_by_test_id("rule").filter(has_text="ETH over 4k")
    expect(rule).to_contain_text("active")
    health = rule.get_by_test_id("rule-health")  # in words: no price source runs here
    expect(health.locator(".badge")).to_have_text("No price source")
    expect(health.locator(".health-detail")).to_contain_text("ETH/USDT")
    feed = page.get_by_test_id("alert-feed")
    alert = feed.get_by_test_id("alert").filter(has_text="ETH/USDT")
    deadline = time.monotonic() + 60
    while alert.count() == 0 and time.monotonic() < deadline:  # until the rule book has it
        tick(system, "ETH/USDT", 3990.0)
        tick(system, "ETH/USDT", 4010.0)
        page.wait_for_timeout(1000)
    expect(alert).to_have_count(1)
    expect(alert.locator(".delivery-sent")).to_contain_text("web: sent", timeout=30_000)
    expect(rule).to_contain_text("fired 1 time,", timeout=30_000)
    screenshot(page, "alerts")


def test_a_trader_deletes_their_account_and_is_signed_out(page: Page, system: System) -> None:
    key = system.new_trader("Leaving")
    sign_in(page, system.url, key)
    page.get_by_role("link", name="Watches & channels").click()
    section = page.get_by_role("region", name="Delete your account")
    section.get_by_role("button", name="Delete my account…").click()
    confirm = section.get_by_role("button", name="Delete my account", exact=True)
    expect(confirm).to_be_disabled()
    section.get_by_label("Type delete to confirm").fill("delete")
    confirm.click()
    expect(page.get_by_label("API key")).to_be_visible()  # signed out
    assert system.api("GET", "/v1/me", key).status_code == 401


def test_send_a_test_shows_each_channels_outcome(page: Page, system: System) -> None:
    sign_in(page, system.url, system.trader_key)
    page.get_by_role("link", name="Watches & channels").click()
    adding = page.get_by_role("form", name="Add a channel")
    with webhook_receiver() as receiver:
        for name, path in (("hook", "/hook"), ("gone", "/gone")):
            adding.get_by_label("Kind").select_option("webhook")
            adding.get_by_label("Name").fill(name)
            adding.get_by_label("URL").fill(receiver.url + path)
            adding.get_by_role("button", name="Add channel").click()
            expect(page.get_by_test_id("channel").filter(has_text=name)).to_be_visible()

        hook = page.get_by_test_id("channel").filter(has_text="hook")
        hook.get_by_role("button", name="Send a test to hook").click()
        expect(hook.get_by_test_id("channel-test-outcome")).to_have_text("Delivered (HTTP 204).")
        gone = page.get_by_test_id("channel").filter(has_text="gone")
        gone.get_by_role("button", name="Send a test to gone").click()
        expect(gone.get_by_test_id("channel-test-outcome")).to_have_text(
            "Failed: webhook: HTTP 404 (refused)"
        )
        screenshot(page, "channel-tests")
    assert [r.path for r in receiver.requests] == ["/hook", "/gone"]  # each to its own only
    assert receiver.requests[0].headers["x-impressox-event"] == "channel.test_requested"


def test_a_link_code_for_a_chat_is_shown_with_how_to_use_it(page: Page, system: System) -> None:
    sign_in(page, system.url, system.trader_key)
    page.get_by_role("link", name="Watches & channels").click()
    page.get_by_role("button", name="Get a link code").click()
    shown = page.get_by_test_id("link-code")
    expect(shown).to_contain_text(re.compile(r"Send /link [A-HJ-NP-Z2-9]{8} to the bot"))
    first = shown.inner_text()
    page.get_by_role("button", name="Get a link code").click()
    expect(shown).not_to_have_text(first)  # a new code each time: each works once


def alert_recorded(system: System) -> bool:
    found = system.api(
        "GET", "/v1/admin/events", params={"category": "alerts", "type": "alert.triggered"}
    )
    assert found.status_code == 200, found.text
    return bool(found.json()["items"])


def an_alert_fired(system: System) -> None:
    """An alert is recorded: an earlier test's, else one of a rule made here."""
    if alert_recorded(system):
        return
    rule = {
        "name": "chain test", "target": {"kind": "symbol", "symbol": "CHN/USDT", "venue": "e2e"},
        "condition": {"type": "crosses_up", "threshold": 10}, "frequency": {"kind": "once"},
        "severity": "info", "channels": ["web"]}  # fmt: skip
    created = system.api("POST", "/v1/rules", system.trader_key, json=rule)
    assert created.status_code == 201, created.text
    deadline = time.monotonic() + 60
    while not alert_recorded(system):  # until the rule book has the rule
        assert time.monotonic() < deadline, "no alert within 60 s"
        tick(system, "CHN/USDT", 9.0)
        tick(system, "CHN/USDT", 11.0)
        time.sleep(1)


def test_an_alert_leads_back_along_its_causal_chain_to_its_tick(page: Page, system: System) -> None:
    an_alert_fired(system)
    sign_in(page, system.url, system.admin_key)
    page.goto(system.url + "/explorer?category=alerts&type=alert.triggered&direction=desc")
    table = page.get_by_test_id("events-table")
    table.get_by_role("row").nth(1).get_by_role("button").click()
    page.get_by_role("link", name="follow the causal chain").click()
    timeline = page.get_by_test_id("chain-timeline")
    expect(timeline.locator("li[data-type='alert.triggered'].focus")).to_have_count(1)
    root = timeline.locator("li").first
    expect(root).to_have_attribute("data-type", "price.tick")
    expect(root).to_have_class(re.compile("on-path"))
    expect(timeline.locator("li[data-type='notification.sent']")).not_to_have_count(0)
    root.get_by_role("button").click()
    expect(page.get_by_role("article", name="Event detail")).to_contain_text('"venue": "e2e"')
    screenshot(page, "causal-chain")


def test_explorer_filters_keep_the_chosen_category_and_key_when_applied(
    page: Page, system: System
) -> None:
    tick(system, "FLT/USDT", 3.0)
    sign_in(page, system.url, system.admin_key)
    page.goto(system.url + "/explorer")
    category = page.get_by_role("button", name="ticks", exact=True)
    category.click()  # a category only
    # Chosen once shown as chosen: the filters form starts again from the new URL, and a
    # type picked in the form before that would go with the old one.
    expect(category).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Type", exact=True).select_option("price.tick")
    apply = page.get_by_role("form", name="Filters").get_by_role("button", name="Apply")
    apply.click()
    expect(page).to_have_url(re.compile(r"category=ticks.*type=price\.tick"))
    table = page.get_by_test_id("events-table")
    expect(table.get_by_role("row")).not_to_have_count(1)
    expect(page.get_by_text("Choose a category or a partition.")).to_have_count(0)
    table.get_by_role("row").nth(1).get_by_role("button").click()
    page.get_by_role("button", name="only this key").click()
    expect(page).to_have_url(re.compile(r"key="))
    expect(page.get_by_label("Key", exact=True)).not_to_have_value("")  # the form, anew
    page.get_by_label("Order").select_option("asc")
    apply.click()  # the key filter survives Apply
    expect(page).to_have_url(re.compile(r"direction=asc"))
    for kept in ("key=", "category=ticks", "type=price.tick"):
        assert kept in page.url


def test_a_dead_letter_is_shown_with_its_error_and_retried(page: Page, system: System) -> None:
    names = StreamNames(system.prefix, partitions=2)
    stream = names.stream("p0", "ticks")
    client = redis.Redis.from_url(_redis_url(system))
    try:  # an entry no handler can decode: dead-lettered at once
        added = client.xadd(stream, {"not": "an event"})
        position = added.decode() if isinstance(added, bytes) else added
    finally:
        client.close()
    sign_in(page, system.url, system.admin_key)
    page.get_by_role("link", name="Handlers").click()
    letters = page.get_by_test_id("dead-letter").filter(has_text=f"{stream}@{position}")
    letter = letters.filter(has=page.locator("strong", has_text=re.compile("^rules$")))
    expect(letter).to_have_count(1, timeout=60_000)
    expect(letter.locator(".error")).not_to_be_empty()
    letter_id = letter.locator("code").first.inner_text()
    page.get_by_role("button", name=f"Retry {letter_id} of rules").click()
    expect(page.get_by_role("status").filter(has_text="Retried 1 of rules")).to_be_visible()
    screenshot(page, "handlers")


def test_a_read_model_is_rebuilt_with_progress_and_dry_run_diffed(
    page: Page, system: System
) -> None:
    sign_in(page, system.url, system.admin_key)
    page.get_by_role("link", name="Read models").click()
    prices = page.get_by_test_id("model-venue_prices")
    expect(prices).to_contain_text("generation 1")
    page.get_by_role("button", name="Rebuild venue_prices").click()
    expect(prices).to_contain_text("generation 2", timeout=60_000)
    page.get_by_role("button", name="Dry run of api_keys").click()
    page.get_by_role("button", name="Start the dry run").click()
    diff = page.get_by_test_id("dry-run-diff")
    expect(diff).to_contain_text("0 added, 0 removed, 0 changed", timeout=60_000)
    screenshot(page, "read-models")
    page.get_by_role("button", name="Discard the dry run").click()
    expect(diff).to_have_count(0)


def test_every_page_fits_a_phone_and_is_kept_as_a_screenshot(page: Page, system: System) -> None:
    sign_in(page, system.url, system.admin_key)
    for name in (*TRADER_PAGES, *ADMIN_PAGES):
        page.goto(f"{system.url}/{name}")
        page.get_by_role("main").wait_for()
        page.wait_for_load_state("networkidle")
        screenshot(page, f"page-{name}")
    # Prices as long as real ones get, on a venue with a long name.
    tick(system, "BTC/USDT", 118234.56789012, venue="binance-futures-perpetual")
    tick(system, "SHIB/USDT", 0.00001234, venue="binance-futures-perpetual")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    for name in (*TRADER_PAGES, *ADMIN_PAGES, "explorer?category=ticks"):
        page.goto(f"{system.url}/{name}")
        page.wait_for_load_state("networkidle")
        overflow: Any = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"/{name} scrolls sideways on a phone by {overflow}px"
        screenshot(page, "phone-" + re.sub(r"[?=]", "-", name))


def _redis_url(system: System) -> str:
    endpoints = system.endpoints()
    url: str = endpoints["redis_url"]
    return url


RECORD_FRAMES = """
window.__frames = [];
window.__subscribed = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', (message) => {
      const parsed = JSON.parse(message.data);
      if (parsed.type === 'event') window.__frames.push([parsed.topic, parsed.position]);
      if (parsed.type === 'subscribed') window.__subscribed.push(parsed.topic);
    });
  }
};
"""


def test_live_prices_resume_after_the_api_restarts_with_no_gap_and_no_duplicate(
    page: Page, system: System
) -> None:
    page.add_init_script(RECORD_FRAMES)  # every event frame the page receives, raw
    tick(system, "SOL/USDT", 100.0)
    sign_in(page, system.url, system.trader_key)
    page.get_by_role("link", name="Markets").click()
    expect(page.get_by_test_id("price-SOL/USDT-e2e")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="live: open")).to_be_visible()
    # A tick appended before the server has the subscription is not sent (a subscription
    # without a cursor starts from now): the page's snapshot and its live feed meet here.
    page.wait_for_function("window.__subscribed.includes('prices:SOL/USDT')")
    tick(system, "SOL/USDT", 101.0)
    expect(page.get_by_test_id("price-SOL/USDT-e2e")).to_contain_text("101")

    api = _api_process(system)
    api.kill()  # the supervisor starts another; meanwhile ticks keep coming
    expect(page.get_by_role("status").filter(has_text="live: reconnecting")).to_be_visible()
    with ThreadPoolExecutor(1) as thread:  # Playwright's own loop runs in this one
        appending = _append_ticks(system, "SOL/USDT", [102.0, 103.0, 104.0])
        missed = thread.submit(asyncio.run, appending).result()
    expect(page.get_by_role("status").filter(has_text="live: open")).to_be_visible(timeout=60_000)
    tick(system, "SOL/USDT", 105.0)
    expect(page.get_by_test_id("price-SOL/USDT-e2e")).to_contain_text("105")

    frames: list[list[str]] = page.evaluate("window.__frames")
    positions = [position for topic, position in frames if topic == "prices:SOL/USDT"]
    assert len(positions) == len(set(positions)), f"a tick arrived twice: {positions}"
    assert set(missed) <= set(positions), "a tick appended while the API was down is missing"
    assert len(positions) == 5  # 101, the three missed, 105
    assert positions == sorted(positions, key=lambda p: tuple(map(int, p.split("-"))))


def _api_process(system: System) -> psutil.Process:
    for child in psutil.Process(system.process.pid).children(recursive=True):
        command = child.cmdline()
        if command[-2:] == ["impressox", "api"]:
            return child
    raise AssertionError("no API process under impressox up")


async def _append_ticks(system: System, symbol: str, prices: list[float]) -> list[str]:
    """Ticks appended straight to the store (the API is down): their positions."""
    client = await connect_redis(system.endpoints()["redis_url"])
    store = EventStore(client, StreamNames(system.prefix, partitions=2))
    try:
        positions = []
        for price in prices:
            payload = PriceTick(
                symbol=symbol, venue="e2e", price=price, source_time=datetime.now(UTC)
            )
            appended = await store.append("ticks", Event(key=symbol, payload=payload))
            positions.append(str(appended.position))
        return positions
    finally:
        await client.aclose()
