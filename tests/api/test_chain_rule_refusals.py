"""Chain rules over HTTP: accepted when their contract can emit what they name, refused
naming the field otherwise (malformed address, unknown event or argument, negative amount)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from chain.deployments import ChainDeployment, ContractDeployment, Deployments, save_deployments
from impressox.settings import Settings
from tests.aggregates.conftest import rule_spec
from tests.api.conftest import bearer

Key = tuple[UUID, str]
ROUTER = "0x00000000000000000000000000000000000000f1"
WALLET = "0x00000000000000000000000000000000000000a1"


def chain_spec(target: dict[str, Any], **condition: Any) -> dict[str, Any]:
    return rule_spec(
        target={"kind": "chain", **target}, condition={"type": "transferred", **condition}
    )


def fee_rule(**target: Any) -> dict[str, Any]:
    return chain_spec({"contract": ROUTER, "event": "FeeCollected", **target})


def test_chain_rules_name_what_their_contract_declares(
    client: TestClient, user: Key, settings: Settings
) -> None:
    _, token = user
    router = ContractDeployment(address=ROUTER, abi="FeeRouter", block=0)
    save_deployments(
        settings.deployments_file(),
        Deployments(chains={31337: ChainDeployment(contracts={"FeeRouter": router})}),
    )
    accepted = [
        fee_rule(where=[{"arg": "amount", "op": "gte", "value": 5 * 10**15}]),
        chain_spec({"wallet": WALLET, "direction": "out", "token": "ETH"}, min_amount=10),
        chain_spec({"contract": WALLET, "event": "Transfer"}),  # a standard's event: any contract
    ]
    for spec in accepted:
        response = client.post("/v1/rules", json=spec, headers=bearer(token))
        assert response.status_code == 201, response.text
    cases = [
        (fee_rule(event="FeeColected"), "target.event", "declares no event 'FeeColected'"),
        (
            fee_rule(where=[{"arg": "amout", "value": 1}]),
            "target.where.0.arg",
            "FeeCollected has no argument 'amout'",
        ),
        (chain_spec({"wallet": "0x12345"}), "body.target.chain.wallet", "40 hexadecimal"),
        (
            chain_spec({"wallet": WALLET}, min_amount=-1),
            "body.condition.transferred.min_amount",
            "greater than or equal to 0",
        ),
        (
            fee_rule(where=[{"arg": "amount", "op": "gte", "value": "lots"}]),
            "body.target.chain.where.0",
            "compares numbers",
        ),
        (chain_spec({"contract": ROUTER, "direction": "in"}), "body.target.chain", "wallet"),
    ]
    for spec, field, words in cases:
        response = client.post("/v1/rules", json=spec, headers=bearer(token))
        assert response.status_code == 422, (spec, response.text)
        problem = response.json()
        assert problem["errors"][0]["field"] == field, problem
        assert words in problem["detail"], problem
    assert len(client.get("/v1/rules", headers=bearer(token)).json()["items"]) <= len(accepted)
