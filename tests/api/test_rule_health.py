"""Rules that cannot fire: refused when they never could, accepted with a health otherwise.

Issue 12: "below -5", a rule on DOGE/USDT while no source reports it, a channel the user
does not have, a wallet rule while no chain watcher runs: each got a plain 201.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from redis import Redis as SyncRedis

from aggregates.alert_rule import AlertRule
from aggregates.rule_spec import RuleSpec
from aggregates.services.bundle import Services
from events.catalog import PriceTick, SourceStarted, SourceStopped
from events.envelope import Event
from events.store import EventStore
from impressox.settings import Settings
from tests.aggregates.conftest import rule_spec
from tests.api.conftest import bearer
from tests.polling import eventually

Key = tuple[UUID, str]
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
STALE_AFTER_S = 120.0
SETTINGS = {"source_stale_after_s": STALE_AFTER_S}


def post_rule(client: TestClient, token: str, **changes: Any) -> Any:
    return client.post(
        "/v1/rules", params={"wait": "true"}, json=rule_spec(**changes), headers=bearer(token)
    )


def created(client: TestClient, token: str, **changes: Any) -> dict[str, Any]:
    response = post_rule(client, token, **changes)
    assert response.status_code == 201, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


def health(client: TestClient, token: str, rule_id: str) -> tuple[str, str]:
    rule = client.get(f"/v1/rules/{rule_id}", headers=bearer(token)).json()
    return rule["health"], rule["health_detail"]


def becomes(client: TestClient, token: str, rule_id: str, wanted: str) -> str:
    """Wait until the rule's health is `wanted` (a rule committed straight to the store is
    404 until its read model has it); its detail."""

    def detail() -> str | None:
        response = client.get(f"/v1/rules/{rule_id}", headers=bearer(token))
        if response.status_code == 404:
            return None
        rule = response.json()
        return str(rule["health_detail"]) if rule["health"] == wanted else None

    return str(eventually(detail, within=20))


async def start_source(store: EventStore, symbol: str, venue: str = "simulator") -> UUID:
    run_id = uuid4()
    started = SourceStarted(source="simulator", venue=venue, symbol=symbol, run_id=run_id)
    await store.append("ticks", Event(key=symbol, payload=started))
    return run_id


async def tick(store: EventStore, symbol: str, price: float, venue: str = "simulator") -> None:
    payload = PriceTick(symbol=symbol, venue=venue, price=price, source_time=datetime.now(UTC))
    await store.append("ticks", Event(key=symbol, payload=payload))


@pytest.mark.parametrize(
    "condition",
    [
        {"type": "below", "threshold": -5},
        {"type": "above", "threshold": 0},
        {"type": "crosses_down", "threshold": -0.5},
    ],
)
def test_a_threshold_no_price_reaches_is_refused(
    client: TestClient, user: Key, condition: dict[str, Any]
) -> None:
    _, token = user
    response = post_rule(client, token, condition=condition)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["errors"][0]["field"] == "condition.threshold"
    assert problem["detail"].startswith("condition.threshold: Input should be greater than 0")
    assert client.get("/v1/rules", headers=bearer(token)).json()["items"] == []


def test_a_change_to_a_threshold_no_price_reaches_is_refused(client: TestClient, user: Key) -> None:
    _, token = user
    rule_id = created(client, token)["id"]
    spec = rule_spec(condition={"type": "below", "threshold": -5})
    response = client.put(f"/v1/rules/{rule_id}", json=spec, headers=bearer(token))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "condition.threshold"
    rule = client.get(f"/v1/rules/{rule_id}", headers=bearer(token)).json()
    assert rule["spec"]["condition"]["threshold"] == 100_000


def test_a_channel_the_user_does_not_have_is_refused_by_name(client: TestClient, user: Key) -> None:
    _, token = user
    response = post_rule(client, token, channels=["web", "nosuch"])
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"] == [
        {
            "field": "channels.1",
            "message": "you have no channel 'nosuch' (yours: web); add it first (POST"
            " /v1/channels)",
        }
    ]
    assert client.get("/v1/rules", headers=bearer(token)).json()["items"] == []
    rule_id = created(client, token)["id"]
    changed = client.put(
        f"/v1/rules/{rule_id}", json=rule_spec(channels=["nosuch"]), headers=bearer(token)
    )
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "channels.0"


def test_a_rule_no_source_reports_is_accepted_and_says_so(client: TestClient, user: Key) -> None:
    _, token = user
    receipt = created(
        client,
        token,
        target={"kind": "symbol", "symbol": "DOGE/USDT"},
        condition={"type": "above", "threshold": 1},
    )
    assert receipt["health"] == "no_source_for_symbol"
    assert receipt["health_detail"] == (
        "No running price source reports DOGE/USDT yet: it will not fire until one does."
    )
    assert health(client, token, receipt["id"])[0] == "no_source_for_symbol"
    listed = client.get("/v1/rules", headers=bearer(token)).json()["items"]
    assert [(r["id"], r["health"]) for r in listed] == [(receipt["id"], "no_source_for_symbol")]


async def test_a_rule_arms_when_its_source_starts_and_its_first_price_comes(
    client: TestClient, user: Key, store: EventStore
) -> None:
    _, token = user
    rule_id = created(client, token)["id"]  # BTC/USDT, any venue
    assert health(client, token, rule_id)[0] == "no_source_for_symbol"
    await start_source(store, "BTC/USDT")
    detail = becomes(client, token, rule_id, "waiting_for_price")
    assert detail == (
        "simulator reports BTC/USDT, but no price has arrived yet: it fires once prices come."
    )
    await tick(store, "BTC/USDT", 99_000.0)
    assert becomes(client, token, rule_id, "armed") == "Watching BTC/USDT on simulator."
    on_binance = created(
        client, token, target={"kind": "symbol", "symbol": "BTC/USDT", "venue": "binance"}
    )
    assert on_binance["health"] == "no_source_for_symbol"
    assert "BTC/USDT on binance" in on_binance["health_detail"]


async def test_a_stopped_source_leaves_its_rules_uncovered(
    client: TestClient, user: Key, store: EventStore
) -> None:
    _, token = user
    run_id = await start_source(store, "ETH/USDT")
    await tick(store, "ETH/USDT", 3_000.0)
    rule_id = created(client, token, target={"kind": "symbol", "symbol": "ETH/USDT"})["id"]
    becomes(client, token, rule_id, "armed")
    stopped = SourceStopped(source="simulator", venue="simulator", symbol="ETH/USDT", run_id=run_id)
    await store.append("ticks", Event(key="ETH/USDT", payload=stopped))
    detail = becomes(client, token, rule_id, "no_source_for_symbol")
    assert detail.startswith(
        "No running price source reports ETH/USDT yet: it will not fire until one does, or"
        " until a price of it is posted to /v1/events/ticks (the last came"
    )


@pytest.mark.parametrize("settings", [{"source_stale_after_s": 1.0}], indirect=True)
async def test_a_source_gone_quiet_makes_its_rules_stale(
    client: TestClient, user: Key, store: EventStore
) -> None:
    _, token = user
    await start_source(store, "SOL/USDT")
    await tick(store, "SOL/USDT", 180.0)
    rule_id = created(client, token, target={"kind": "symbol", "symbol": "SOL/USDT"})["id"]
    detail = becomes(client, token, rule_id, "source_stale")
    assert detail.startswith("No SOL/USDT price from simulator for ")
    assert detail.endswith(": it cannot fire until prices resume.")


def test_a_removed_channel_shows_on_its_rules(
    client: TestClient, user: Key, services: Services
) -> None:
    user_id, token = user
    services.users.add_channel(
        user_id, {"channel_id": "desk", "channel": {"kind": "telegram", "chat_id": 42}}
    )
    rule_id = created(
        client,
        token,
        target={"kind": "posts", "keyword": "SOL"},
        condition={"type": "mentioned"},
        channels=["web", "desk"],
    )["id"]
    assert becomes(client, token, rule_id, "armed") == "Watching posts mentioning SOL."
    services.users.remove_channel(user_id, "desk")
    assert becomes(client, token, rule_id, "channel_missing") == (
        "Channel 'desk' no longer exists: its alerts reach only web (add it, or change the rule)."
    )


def test_a_wallet_rule_says_whether_a_chain_watcher_runs(
    client: TestClient, user: Key, settings: Settings, redis_url: str
) -> None:
    _, token = user
    receipt = created(
        client,
        token,
        target={"kind": "chain", "wallet": WALLET},
        condition={"type": "transferred"},
    )
    assert receipt["health"] == "no_chain_watcher"
    assert receipt["health_detail"] == (
        "No chain watcher runs: the rule will not fire until one does (set CHAIN_RPC_URL,"
        " or run `impressox chain watch`)."
    )
    # A watcher in another process holds its lease: the rule can fire.
    lease = settings.stream_names().chain_state("lease", 31337)
    with SyncRedis.from_url(redis_url) as redis:
        redis.set(lease, "chain-31337@elsewhere", px=30_000)
    becomes(client, token, receipt["id"], "armed")


def test_paused_and_expired_rules_say_so(client: TestClient, user: Key) -> None:
    _, token = user
    rule_id = created(client, token)["id"]
    client.post(f"/v1/rules/{rule_id}/pause", params={"wait": "true"}, headers=bearer(token))
    assert health(client, token, rule_id) == ("paused", "Paused: resume it to arm it again.")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    expired = created(client, token, expires_at=past)
    assert expired["health"] == "expired"


def test_a_rule_recorded_before_thresholds_were_checked_says_it_is_invalid(
    client: TestClient, user: Key, services: Services
) -> None:
    user_id, token = user
    spec = RuleSpec.model_validate(rule_spec(condition={"type": "below", "threshold": -5}))
    old = AlertRule(owner_id=user_id, spec=spec)  # as the service made them before
    services.alert_rules.commit(old)
    detail = becomes(client, token, str(old.id), "invalid_threshold")
    assert detail == "Prices are above zero: below -5 could never fire. Change the threshold."
