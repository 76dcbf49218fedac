"""Every event our contracts emit decodes from a real log with the exported ABIs."""

from __future__ import annotations

from collections import defaultdict

from eth_abi.abi import encode
from web3 import Web3
from web3.types import LogReceipt

from chain.artifacts import artifact_names, load_artifact
from chain.decoding import DecodedEvent, EventDecoder, describe_revert
from chain.deploy import LOCAL_PLAN, ROUTER, route_id
from chain.deployments import ChainDeployment
from tests.chain.conftest import account, contract, swap_eth_for_usd

TRANSFER = Web3.keccak(text="Transfer(address,address,uint256)")


def decoded(log: LogReceipt, abi_name: str) -> DecodedEvent | None:
    return EventDecoder(load_artifact(abi_name).abi).decode(log["topics"], log["data"])


def test_a_swap_through_the_proxy_decodes_to_fee_collected_and_swap(
    w3: Web3, deployment: ChainDeployment
) -> None:
    trader = account(w3, 1)
    amount = 2 * 10**18
    receipt = swap_eth_for_usd(w3, deployment, trader, amount)
    router = deployment.address(ROUTER)
    events = [decoded(log, "FeeRouter") for log in receipt["logs"] if log["address"] == router]
    fee = amount * LOCAL_PLAN.fee_bps // 10_000
    eth, usd = deployment.address("tETH"), deployment.address("tUSD")
    assert [event.name for event in events if event] == ["FeeCollected", "Swap"]
    fee_collected, swap = events
    assert fee_collected == DecodedEvent(
        "FeeCollected",
        {"payer": trader, "token": eth, "amount": fee, "routeId": route_id("tETH/tUSD")},
    )
    assert swap is not None
    assert swap.args == {
        "payer": trader,
        "recipient": trader,
        "routeId": route_id("tETH/tUSD"),
        "tokenIn": eth,
        "tokenOut": usd,
        "amountIn": amount,
        "fee": fee,
        "amountOut": contract(w3, deployment, "tUSD").functions.balanceOf(trader).call(),
    }
    transfers = [decoded(log, "TestToken") for log in receipt["logs"] if log["address"] == eth]
    assert [(t.name, t.args["value"]) for t in transfers if t] == [
        ("Transfer", amount),  # trader -> router
        ("Transfer", fee),  # router -> fee recipient
        ("Approval", amount - fee),  # router lets the pool take the rest
        ("Transfer", amount - fee),  # router -> pool
    ]


def test_every_event_of_every_exported_contract_decodes_from_a_real_log(
    w3: Web3, deployment: ChainDeployment
) -> None:
    """Deploying emitted most of them; a swap and setting the fee and its recipient (to what
    they are, leaving the session's deployment as it was) the rest. Every log our contracts
    wrote decodes with the ABI the deployments file names."""
    owner, trader = account(w3, 0), account(w3, 2)
    swap_eth_for_usd(w3, deployment, trader, 10**18)
    router = contract(w3, deployment, ROUTER)
    same_fee, same_recipient = LOCAL_PLAN.fee_bps, router.functions.feeRecipient().call()
    for call in (
        router.functions.setFee(same_fee),
        router.functions.setFeeRecipient(same_recipient),
    ):
        w3.eth.wait_for_transaction_receipt(call.transact({"from": owner}))

    by_address = {
        Web3.to_checksum_address(recorded.address): recorded.abi
        for recorded in deployment.contracts.values()
    }
    logs = w3.eth.get_logs(
        {"fromBlock": deployment.first_block, "toBlock": "latest", "address": list(by_address)}
    )
    seen: dict[str, set[str]] = defaultdict(set)
    for log in logs:
        event = decoded(log, by_address[log["address"]])
        assert event is not None, log  # no log of ours is left undecoded
        seen[by_address[log["address"]]].add(event.name)
    # The proxy's own ABI decodes what it emits at its creation (Upgraded) too.
    proxy_logs = [log for log in logs if log["address"] == router.address]
    seen["ERC1967Proxy"] = {
        event.name for log in proxy_logs if (event := decoded(log, "ERC1967Proxy")) is not None
    }
    for name in artifact_names():
        assert seen[name] == set(load_artifact(name).event_names), name


def test_a_log_that_is_not_one_of_the_abis_events_is_left_raw() -> None:
    decoder = EventDecoder(load_artifact("TestToken").abi)
    a, b = (bytes(12) + bytes([n]) * 20 for n in (1, 2))
    # An ERC-721 Transfer: the ERC-20 signature, but the token id is a third topic.
    assert decoder.decode([TRANSFER, a, b, encode(["uint256"], [7])], b"") is None
    assert decoder.decode([Web3.keccak(text="Unknown()")], b"") is None
    assert decoder.decode([], b"") is None
    assert decoder.decode([TRANSFER, a, b], b"\x01") is None  # data too short for a uint256
    erc20 = decoder.decode([TRANSFER, a, b], encode(["uint256"], [7]))
    assert erc20 == DecodedEvent(
        "Transfer",
        {
            "from": "0x0101010101010101010101010101010101010101",
            "to": "0x0202020202020202020202020202020202020202",
            "value": 7,
        },
    )


def test_indexed_dynamic_arguments_are_kept_as_their_hash() -> None:
    abi = [
        {
            "type": "event",
            "name": "Named",
            "anonymous": False,
            "inputs": [
                {"name": "label", "type": "string", "indexed": True},
                {"name": "id", "type": "bytes32", "indexed": True},
                {"name": "note", "type": "string", "indexed": False},
            ],
        }
    ]
    topic = Web3.keccak(text="Named(string,bytes32,string)")
    label_hash, identifier = Web3.keccak(text="x"), b"\x07" * 32
    event = EventDecoder(abi).decode(  # type: ignore[arg-type]
        [topic, label_hash, identifier], encode(["string"], ["hello"])
    )
    assert event == DecodedEvent("Named", {"label": label_hash, "id": identifier, "note": "hello"})


def test_revert_data_is_described_by_the_custom_error_it_is() -> None:
    abis = [load_artifact(name).abi for name in artifact_names()]
    data = Web3.keccak(text="FeeTooHigh(uint16,uint16)")[:4] + encode(
        ["uint16", "uint16"], [5000, 1000]
    )
    assert describe_revert(data, abis) == "FeeTooHigh(feeBps=5000, maxFeeBps=1000)"
    assert describe_revert(b"\x08\xc3\x79\xa0", abis) is None  # Error(string): not a custom one
    assert describe_revert(data[:4], abis) is None  # its arguments are missing
