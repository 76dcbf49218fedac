"""The alerts of chain rules: what moved or what a contract said, and when a reorg undid it.

A firing reads, e.g.::

    0x1234…abcd sent 12.5 ETH ($43,750) to 0x9876…5432 (tx 0xab12…, block 1,204; confirmed)
    FeeRouter 0x5fbd…0aa3 emitted FeeCollected(payer=0x…, amount=3000000000000000) (tx …)

and a reversal (condition ``chain_reverted``, a notice, not a firing of the rule)::

    Reverted by a reorg: 0x1234…abcd sent 12.5 ETH … is no longer on the chain.

The event's record travels in `values` (transaction, block, observation id, amounts), so
a webhook receives it whole and a restarted engine learns which observations its rules
fired on. Alerts are keyed like the chain event (`trigger_key`), so they land in its
partition, appended atomically with its acknowledgement.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aggregates.message_template import render
from aggregates.rule_spec import ChainTarget, Transferred
from events.catalog import AlertTriggered
from events.catalog.chain import ChainRecord, ValueTransfer
from events.numbers import figure
from rules.chain_rules import ChainFiring, Reversal, Stage
from rules.firing import RuleState

REVERTED_CONDITION = "chain_reverted"
"""The condition of the alert saying an event a rule fired on was removed by a reorg."""
MESSAGE_CHARS = 4000


def chain_alert(
    firing: ChainFiring,
    record: ChainRecord,
    *,
    stage: Stage,
    observation_id: UUID,
    event_id: UUID,
    key: str,
) -> AlertTriggered:
    """The alert of `firing` on `record`, seen at `stage`, the event `event_id` keyed `key`."""
    state = firing.state
    spec = state.spec
    condition = _condition(state)
    values = record_values(record, stage, observation_id)
    values["threshold"] = condition.min_amount
    if condition.min_usd is not None:
        values["min_usd"] = condition.min_usd
    return AlertTriggered(
        rule_id=state.rule_id,
        user_id=state.owner_id,
        subject=subject_of(state),
        condition=condition.type,
        severity=spec.severity,
        message=chain_message(state, record, stage)[:MESSAGE_CHARS],
        values=values,
        trigger_event_id=event_id,
        trigger_key=key,
        triggered_at=firing.at,
        channels=tuple(spec.channels),
    )


def reversal_alert(
    reversal: Reversal, record: ChainRecord, observation_id: UUID, event_id: UUID, key: str
) -> AlertTriggered:
    """The follow-up telling the rule's owner that what it fired on was reorged away."""
    state = reversal.state
    what = describe(record)
    return AlertTriggered(
        rule_id=state.rule_id,
        user_id=state.owner_id,
        subject=subject_of(state),
        condition=REVERTED_CONDITION,
        severity=state.spec.severity,
        message=f"Reverted by a reorg: {what} is no longer on the chain ({where(record)});"
        " the alert about it no longer holds.",
        values=record_values(record, "retracted", observation_id),
        trigger_event_id=event_id,
        trigger_key=key,
        triggered_at=reversal.at,
        channels=tuple(state.spec.channels),
    )


def subject_of(state: RuleState) -> str:
    """What the rule watches: the wallet, or the contract (and its event)."""
    target = _target(state)
    if target.wallet is not None:
        return target.wallet
    assert target.contract is not None, "a chain target watches something"
    return f"{target.contract} {target.event}" if target.event else target.contract


def record_values(record: ChainRecord, stage: str, observation_id: UUID) -> dict[str, Any]:
    """The record as an alert carries it: ids first, then what moved."""
    values: dict[str, Any] = {
        "stage": stage,
        "observation_id": str(observation_id),
        "chain_id": record.chain_id,
        "block_number": record.block_number,
        "block_hash": record.block_hash,
        "tx_hash": record.tx_hash,
    }
    if record.address is not None:
        values["address"] = record.address
    if record.event:
        values["event"] = record.event
        values["args"] = record.args
    transfer = record.transfer
    if transfer is not None:
        values |= {
            "from": transfer.sender,
            "to": transfer.recipient,
            "token": transfer.token,
            "symbol": transfer.symbol,
            "raw_amount": transfer.raw_amount,
            "amount": transfer.amount,
            "value": transfer.amount,
            "usd_price": transfer.usd_price,
            "usd_value": transfer.usd_value,
        }
    return values


def chain_message(state: RuleState, record: ChainRecord, stage: str) -> str:
    """The rule's own template filled in, or the default sentence.

    For a chain rule ``symbol`` is the token's symbol (or the event's name), ``value``
    the amount, ``threshold`` the minimum amount, ``price`` the token's USD price (a
    template that needs a price none was known for gives way to the default sentence).
    """
    spec = state.spec
    if spec.message_template is not None:
        transfer = record.transfer
        fields: dict[str, Any] = {
            "symbol": (transfer.symbol if transfer else None) or record.event or "",
            "threshold": _condition(state).min_amount,
            "condition": spec.condition.type,
            "rule": spec.name or str(state.rule_id),
            "target": subject_of(state),
        }
        if transfer is not None and transfer.amount is not None:
            fields["value"] = transfer.amount
        if transfer is not None and transfer.usd_price is not None:
            fields["price"] = transfer.usd_price
        rendered = render(spec.message_template, fields)
        if rendered is not None:
            return rendered
    return f"{describe(record)} ({where(record)}; {stage})"


ZERO_ADDRESS = "0x" + "0" * 40
"""The ERC-20 convention's "nobody": a transfer from it is a mint, to it a burn."""


def describe(record: ChainRecord) -> str:
    """What happened, in words: "0xab…cd sent 12.5 ETH ($43,750) to 0x98…32"; a mint
    ("12.5 USDC ($12.50) minted to 0x98…32") and a burn ("0xab…cd burned 3 USDC") say so
    rather than name the zero address as a party."""
    transfer = record.transfer
    if transfer is not None and (record.native or record.event == "Transfer"):
        amount = amount_text(transfer)
        if not record.native and transfer.sender.lower() == ZERO_ADDRESS:
            return f"{amount} minted to {short(transfer.recipient)}"
        if not record.native and transfer.recipient.lower() == ZERO_ADDRESS:
            return f"{short(transfer.sender)} burned {amount}"
        return f"{short(transfer.sender)} sent {amount} to {short(transfer.recipient)}"
    args = ", ".join(f"{name}={_arg_text(value)}" for name, value in record.args.items())
    emitter = short(record.address) if record.address else "a contract"
    return f"{emitter} emitted {record.event or 'an undecoded event'}({args})"


def where(record: ChainRecord) -> str:
    return f"tx {short(record.tx_hash)}, block {record.block_number:,}"


def amount_text(transfer: ValueTransfer) -> str:
    """12.5 ETH ($43,750), or the raw amount when the token's decimals are unknown."""
    unit = transfer.symbol or (short(transfer.token) if transfer.token else "units")
    if transfer.amount is None:
        return f"{transfer.raw_amount} (raw) {unit}"
    text = f"{figure(transfer.amount)} {unit}"
    return f"{text} (${figure(transfer.usd_value)})" if transfer.usd_value is not None else text


def short(hex_text: str) -> str:
    """0x1234…abcd: enough to recognise, short enough for a phone's notification."""
    return f"{hex_text[:6]}…{hex_text[-4:]}" if len(hex_text) > 12 else hex_text


def _arg_text(value: object) -> str:
    if isinstance(value, str) and value.startswith("0x") and len(value) > 12:
        return short(value)
    return str(value)


def _target(state: RuleState) -> ChainTarget:
    target = state.spec.target
    assert isinstance(target, ChainTarget), "a chain rule watches a chain"
    return target


def _condition(state: RuleState) -> Transferred:
    condition = state.spec.condition
    assert isinstance(condition, Transferred), "a chain rule's condition is transferred"
    return condition
