"""Topics a live client may subscribe to: which streams each reads, and what it lets through.

=====================  =================================================================
``prices:<SYMBOL>``    price.tick of one symbol, from the one partition of ``ticks`` it
                       lives in (e.g. ``prices:BTC/USDT``)
``alerts``             the caller's alert.triggered, from every partition of ``alerts``
``notifications``      the caller's notification.sent and notification.failed
``conversation:<id>``  turns and replies of one of the caller's conversations, from the
                       conversations application's log, and the reply's text while the
                       agent writes it (``delta`` messages)
``chain:<address>``    chain.observed, chain.confirmed and chain.retracted of records
                       that involve the address (the emitting contract, a transfer's
                       sender or recipient), from every partition of ``chain``
``alerts:*``           everyone's alerts (admin keys only); ``notifications:*`` likewise
=====================  =================================================================

A topic is resolved once, when a client subscribes: that is where ownership is checked,
so filtering an arriving event is a few attribute comparisons.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from uuid import UUID

from aggregates.conversation import Conversation
from aggregates.errors import NotFoundError
from aggregates.services.conversations import Conversations
from api.keys import Principal
from api.live.errors import TopicError
from events.catalog import (
    AlertTriggered,
    ChainEventConfirmed,
    ChainEventObserved,
    ChainEventRetracted,
    ChainRecord,
    NotificationFailed,
    NotificationSent,
    PriceTick,
)
from events.envelope import Event
from events.names import StreamNames

MAX_TOPIC_CHARS = 200

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_SYMBOL = re.compile(r"^[A-Z0-9]{2,12}/[A-Z0-9]{2,12}$")
_EVERYONE = "*"
_CONVERSATION_TYPES = frozenset({"conversation.turn_recorded", "conversation.replied"})
_CONVERSATIONS_LOG_TAG = StreamNames.application_tag(Conversations.name)


@dataclass(frozen=True)
class Topic:
    """What one subscription reads: its streams, and the events of them it delivers."""

    name: str
    streams: tuple[str, ...]
    types: frozenset[str]
    key: str | None = None
    """Deliver only events with this key (None: any key)."""
    payload: tuple[tuple[str, str], ...] = ()
    """Deliver only events whose payload has these attribute values (compared as text)."""
    reply_channel: str | None = None
    """The Pub/Sub channel of the agent's reply text as it is written (conversations)."""
    involves: str | None = None
    """Deliver only chain events whose record involves this address (lowercase)."""

    @property
    def stream_set(self) -> frozenset[str]:
        return frozenset(self.streams)

    def accepts(self, event: Event) -> bool:
        if event.type not in self.types:
            return False
        if self.key is not None and event.key != self.key:
            return False
        payload = event.payload
        if self.involves is not None and not _involves(payload, self.involves):
            return False
        return all(str(getattr(payload, name, None)) == value for name, value in self.payload)


def _involves(payload: object, address: str) -> bool:
    record = getattr(payload, "record", None)
    if not isinstance(record, ChainRecord):
        return False
    transfer = record.transfer
    return record.address == address or (
        transfer is not None and address in (transfer.sender, transfer.recipient)
    )


async def resolve_topic(
    name: str, principal: Principal, names: StreamNames, conversations: Conversations
) -> Topic:
    """The topic a client named, if it exists and the caller may see it; else TopicError."""
    if len(name) > MAX_TOPIC_CHARS:
        raise TopicError(f"a topic name has at most {MAX_TOPIC_CHARS} characters")
    kind, separator, argument = name.partition(":")
    if kind == "prices" and separator:
        return _prices(name, argument, names)
    if kind in ("alerts", "notifications"):
        return _deliveries(name, kind, argument if separator else None, principal, names)
    if kind == "conversation" and separator:
        return await _conversation(name, argument, principal, names, conversations)
    if kind == "chain" and separator:
        return _chain(name, argument, names)
    raise TopicError(
        f"unknown topic {name!r}: subscribe to prices:<BASE/QUOTE>, alerts, notifications,"
        " conversation:<conversation id> or chain:<address>"
    )


def _chain(name: str, address: str, names: StreamNames) -> Topic:
    if not _ADDRESS.match(address):
        raise TopicError(f"invalid address {address!r}: use 0x and 40 hexadecimal digits")
    return Topic(
        name=name,
        streams=tuple(names.category_streams(ChainEventObserved.category)),
        types=frozenset(
            kind.event_type
            for kind in (ChainEventObserved, ChainEventConfirmed, ChainEventRetracted)
        ),
        involves=address.lower(),
    )


def _prices(name: str, symbol: str, names: StreamNames) -> Topic:
    if not _SYMBOL.match(symbol):
        raise TopicError(
            f"invalid symbol {symbol!r}: use BASE/QUOTE in capitals, e.g. prices:BTC/USDT"
        )
    return Topic(
        name=name,
        streams=(names.stream_for_key(PriceTick.category, symbol),),
        types=frozenset({PriceTick.event_type}),
        payload=(("symbol", symbol),),
    )


def _deliveries(
    name: str, kind: str, scope: str | None, principal: Principal, names: StreamNames
) -> Topic:
    """`alerts` or `notifications`: the caller's own, or everyone's (`:*`, admins only)."""
    if scope is not None and scope != _EVERYONE:
        raise TopicError(f"unknown topic {name!r}: use {kind} (yours) or {kind}:* (admins)")
    if scope == _EVERYONE and not principal.is_admin:
        raise TopicError(f"{name} needs an API key with the 'admin' scope")
    if kind == "alerts":
        category, types = AlertTriggered.category, {AlertTriggered.event_type}
    else:
        category = NotificationSent.category
        types = {NotificationSent.event_type, NotificationFailed.event_type}
    owner = () if scope == _EVERYONE else (("user_id", str(principal.user_id)),)
    return Topic(
        name=name,
        streams=tuple(names.category_streams(category)),
        types=frozenset(types),
        payload=owner,
    )


async def _conversation(
    name: str,
    argument: str,
    principal: Principal,
    names: StreamNames,
    conversations: Conversations,
) -> Topic:
    try:
        conversation_id = UUID(argument)
    except ValueError:
        raise TopicError(f"invalid conversation id {argument!r}: expected a UUID") from None
    unknown = TopicError(f"no conversation {conversation_id}")
    try:
        conversation: Conversation = await asyncio.to_thread(conversations.load, conversation_id)
    except NotFoundError:
        raise unknown from None
    if not principal.may_see(conversation.user_id):
        raise unknown  # the same answer as for none: another user's id reveals nothing
    return Topic(
        name=name,
        streams=(names.notification_log(_CONVERSATIONS_LOG_TAG),),
        types=_CONVERSATION_TYPES,
        key=str(conversation_id),
        reply_channel=names.reply_channel(str(conversation_id)),
    )
