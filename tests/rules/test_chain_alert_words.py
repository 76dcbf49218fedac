"""How a chain alert says what happened: a transfer between two parties, a mint, a burn,
a native payment (the zero address is never named as a party of a token's mint or burn)."""

from __future__ import annotations

import pytest

from events.catalog import ChainRecord, ValueTransfer
from rules.chain_alerts import ZERO_ADDRESS, describe

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
TOKEN = "0x" + "c3" * 20


def _transfer(sender: str, recipient: str, *, native: bool = False) -> ChainRecord:
    transfer = ValueTransfer(
        token=None if native else TOKEN,
        symbol="ETH" if native else "USDC",
        sender=sender,
        recipient=recipient,
        raw_amount="12500000",
        decimals=18 if native else 6,
        amount=12.5,
    )
    return ChainRecord(
        chain_id=31337,
        block_number=7,
        block_hash="0x" + "11" * 32,
        tx_hash="0x" + "22" * 32,
        log_index=None if native else 0,
        address=None if native else TOKEN,
        event="" if native else "Transfer",
        transfer=transfer,
    )


@pytest.mark.parametrize(
    ("sender", "recipient", "native", "words"),
    [
        (ALICE, BOB, False, "0xa1a1…a1a1 sent 12.5 USDC to 0xb2b2…b2b2"),
        (ZERO_ADDRESS, BOB, False, "12.5 USDC minted to 0xb2b2…b2b2"),
        (ALICE, ZERO_ADDRESS, False, "0xa1a1…a1a1 burned 12.5 USDC"),
        (ALICE, BOB, True, "0xa1a1…a1a1 sent 12.5 ETH to 0xb2b2…b2b2"),
    ],
)
def test_a_transfer_is_told_as_a_payment_a_mint_or_a_burn(
    sender: str, recipient: str, native: bool, words: str
) -> None:
    assert describe(_transfer(sender, recipient, native=native)) == words
