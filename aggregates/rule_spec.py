"""What an alert rule watches and when it fires: targets, conditions, frequency.

Every field is validated where a rule enters the system, so an invalid rule is refused
with the offending field named (``condition.window_s: Input should be greater than 0``)
and no invalid rule is ever recorded.
"""

from __future__ import annotations

import string
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field, PositiveInt, StrictInt, ValidationInfo, field_validator, model_validator

from aggregates.channels import ChannelId
from aggregates.errors import InvalidCommandError
from aggregates.evm import EvmAddress, checksum_address
from aggregates.message_template import TEMPLATE_FIELDS
from aggregates.model import Immutable
from events.catalog.common import Severity, Symbol

Finite = Annotated[float, Field(allow_inf_nan=False)]
Direction = Literal["up", "down", "either"]

# -- what a rule watches ------------------------------------------------------------------


class SymbolTarget(Immutable):
    """Prices of one trading pair, on one venue or any."""

    kind: Literal["symbol"] = "symbol"
    symbol: Symbol
    venue: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,32}$")


class PostTarget(Immutable):
    """Posts mentioning a keyword or cashtag, or by an account."""

    kind: Literal["posts"] = "posts"
    keyword: str | None = Field(default=None, min_length=1, max_length=64)
    account: str | None = Field(default=None, pattern=r"^@?[A-Za-z0-9_]{1,32}$")

    @model_validator(mode="after")
    def _something_to_watch(self) -> PostTarget:
        if self.keyword is None and self.account is None:
            raise ValueError("a posts target needs a keyword or an account")
        return self


ArgOperator = Literal["eq", "ne", "gt", "gte", "lt", "lte"]
_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class ArgFilter(Immutable):
    """One condition on a decoded event argument: ``amount gte 5000000``.

    Numbers are compared with the argument as the chain has it (an integer in the
    token's smallest unit: 5 tokens of 18 decimals are 5e18); text (addresses, hashes)
    is compared in lowercase, with ``eq`` and ``ne`` only.
    """

    arg: str = Field(pattern=_IDENTIFIER)
    op: ArgOperator = "eq"
    value: StrictInt | Annotated[Finite, Field(strict=True)] | str = Field(
        union_mode="left_to_right"
    )

    @model_validator(mode="after")
    def _text_compares_for_equality(self) -> ArgFilter:
        if isinstance(self.value, str) and self.op not in ("eq", "ne"):
            raise ValueError(f"{self.op!r} compares numbers; a text value takes eq or ne")
        return self


_TOKEN_SPELLING = r"^(0x[0-9a-fA-F]{40}|[A-Za-z0-9.]{1,16})$"  # noqa: S105 (not a secret)


class ChainTarget(Immutable):
    """Activity of a wallet, or events of a contract.

    A wallet's transfers (ERC-20 and native) may be narrowed by `direction` (``in``:
    received, ``out``: sent), `token` (a token's address, or a symbol such as ``ETH``
    for the native coin or ``USDC``) and `counterparty` (the other side). A contract's
    `event` (by its ABI name) may be narrowed by argument filters (`where`).

    `fire_on`: ``confirmed`` (the default) fires once the event's block is deep enough;
    ``observed`` fires as soon as the event is seen, and a reorg that removes it then
    sends a follow-up alert that the transfer was reverted.
    """

    kind: Literal["chain"] = "chain"
    wallet: EvmAddress | None = None
    contract: EvmAddress | None = None
    event: str | None = Field(default=None, pattern=_IDENTIFIER)
    direction: Literal["in", "out", "either"] | None = None
    """None: either way (as ``either``)."""
    token: str | None = Field(default=None, pattern=_TOKEN_SPELLING)
    counterparty: EvmAddress | None = None
    where: list[ArgFilter] = Field(default_factory=list, max_length=8)
    fire_on: Literal["confirmed", "observed"] | None = None
    """None: ``confirmed``. (Defaults are None so that a client's types need not spell
    them out.)"""

    @model_validator(mode="after")
    def _something_to_watch(self) -> ChainTarget:
        if self.wallet is None and self.contract is None:
            raise ValueError("a chain target needs a wallet or a contract")
        if self.wallet is None and (
            self.direction not in (None, "either")
            or self.token is not None
            or self.counterparty is not None
        ):
            raise ValueError("direction, token and counterparty narrow a wallet's transfers")
        if self.where and (self.contract is None or self.event is None):
            raise ValueError("argument filters (where) need a contract and its event")
        return self

    @field_validator("token")
    @classmethod
    def _checksummed_token(cls, token: str | None) -> str | None:
        if token is not None and token.startswith("0x"):
            return checksum_address(token)
        return token


Target = Annotated[SymbolTarget | PostTarget | ChainTarget, Field(discriminator="kind")]

# -- when it fires ----------------------------------------------------------------------


class _AgainstThreshold(Immutable):
    threshold: Finite


class Above(_AgainstThreshold):
    type: Literal["above"] = "above"


class Below(_AgainstThreshold):
    type: Literal["below"] = "below"


class CrossesUp(_AgainstThreshold):
    """From at or below the threshold to above it (needs a previous price)."""

    type: Literal["crosses_up"] = "crosses_up"


class CrossesDown(_AgainstThreshold):
    """From at or above the threshold to below it (needs a previous price)."""

    type: Literal["crosses_down"] = "crosses_down"


class PercentChange(Immutable):
    """The price moved by `percent` or more within the last `window_s` seconds."""

    type: Literal["percent_change"] = "percent_change"
    percent: Annotated[Finite, Field(gt=0)]
    window_s: PositiveInt
    direction: Direction = "either"


class AbsoluteMove(Immutable):
    """The price moved by `amount` (quote currency) or more within `window_s` seconds."""

    type: Literal["absolute_move"] = "absolute_move"
    amount: Annotated[Finite, Field(gt=0)]
    window_s: PositiveInt
    direction: Direction = "either"


class VolumeSpike(Immutable):
    """Volume reached `multiple` times its rolling mean over `window_s` seconds."""

    type: Literal["volume_spike"] = "volume_spike"
    multiple: Annotated[Finite, Field(gt=1)]
    window_s: PositiveInt


class Mentioned(Immutable):
    """A post on the target with at least `min_engagement`: likes + reposts + replies +
    quotes (`Engagement.total`), as the source saw them when it scraped the post."""

    type: Literal["mentioned"] = "mentioned"
    min_engagement: int = Field(default=0, ge=0)


class Transferred(Immutable):
    """A transfer or contract event on the target, optionally at or above an amount
    (in whole tokens, scaled by the token's decimals) or a value in USD (where a price of
    the token's symbol was known when the transfer was seen: without one, a USD
    threshold is not met)."""

    type: Literal["transferred"] = "transferred"
    min_amount: Annotated[Finite, Field(ge=0)] = 0
    min_usd: Annotated[Finite, Field(ge=0)] | None = None


PriceCondition = (
    Above | Below | CrossesUp | CrossesDown | PercentChange | AbsoluteMove | VolumeSpike
)
Condition = Annotated[PriceCondition | Mentioned | Transferred, Field(discriminator="type")]

PRICE_CONDITIONS = (
    "above",
    "below",
    "crosses_up",
    "crosses_down",
    "percent_change",
    "absolute_move",
    "volume_spike",
)
CONDITIONS_OF_TARGET = {
    "symbol": PRICE_CONDITIONS,
    "posts": ("mentioned",),
    "chain": ("transferred",),
}

# -- how often ----------------------------------------------------------------------------


class Once(Immutable):
    """Fire the first time the condition holds, then the rule is done."""

    kind: Literal["once"] = "once"


class EveryTime(Immutable):
    """Fire each time the condition holds, but not again within `cooldown_s`."""

    kind: Literal["every_time"] = "every_time"
    cooldown_s: int = Field(default=60, ge=0)


class AtMostOncePer(Immutable):
    """Fire at most once in each `interval_s` window."""

    kind: Literal["at_most_once_per"] = "at_most_once_per"
    interval_s: PositiveInt


Frequency = Annotated[Once | EveryTime | AtMostOncePer, Field(discriminator="kind")]


def fires_again_at(frequency: Frequency, last_fired: datetime | None) -> datetime | None:
    """When `frequency` lets a rule that last fired at `last_fired` fire again (None:
    whenever its condition holds; a once-rule that fired is completed, not quiet).

    The one rule for both the aggregate, which refuses a firing too soon, and the
    engine, which does not evaluate a rule before then."""
    if last_fired is None or isinstance(frequency, Once):
        return None
    if isinstance(frequency, EveryTime):
        return last_fired + timedelta(seconds=frequency.cooldown_s)
    return last_fired + timedelta(seconds=frequency.interval_s)


class RuleSpec(Immutable):
    """Everything a trader says about a rule."""

    name: str = Field(default="", max_length=80)
    target: Target
    condition: Condition
    frequency: Frequency = Field(default_factory=Once)
    expires_at: datetime | None = None
    severity: Severity = "warning"
    channels: list[ChannelId] = Field(min_length=1, max_length=8)
    message_template: str | None = Field(default=None, min_length=1, max_length=1000)

    @field_validator("condition")
    @classmethod
    def _fits_the_target(cls, condition: Condition, info: ValidationInfo) -> Condition:
        target = info.data.get("target")
        if target is not None and condition.type not in CONDITIONS_OF_TARGET[target.kind]:
            allowed = ", ".join(CONDITIONS_OF_TARGET[target.kind])
            raise ValueError(
                f"{condition.type!r} does not apply to a {target.kind} target"
                f" (use one of: {allowed})"
            )
        return condition

    @field_validator("message_template")
    @classmethod
    def _uses_known_fields(cls, template: str | None) -> str | None:
        """Field names only: rules recorded before templates were bounded must still be
        read. A new template is held to `aggregates.message_template`'s bounds where
        commands enter (`AlertRules`)."""
        if template is None:
            return None
        try:
            used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        except ValueError as error:
            raise ValueError(f"malformed template: {error}") from None
        unknown = used - TEMPLATE_FIELDS
        if unknown:
            raise ValueError(
                f"unknown fields {sorted(unknown)} (known: {', '.join(sorted(TEMPLATE_FIELDS))})"
            )
        return template

    @field_validator("expires_at")
    @classmethod
    def _has_a_time_zone(cls, expires_at: datetime | None) -> datetime | None:
        if expires_at is not None and expires_at.tzinfo is None:
            raise ValueError("needs a time zone (e.g. 2026-12-31T00:00:00Z)")
        return expires_at


def refuse_never_firing(spec: RuleSpec) -> None:
    """Refuse a price threshold of zero or less: prices are above zero, so such a rule
    would never fire (below, crossings) or fire on every price (above).

    Checked where a rule is created or changed (`AlertRule`), not by the model itself:
    rules recorded before this check must still load (their health says
    ``invalid_threshold``).
    """
    condition = spec.condition
    if isinstance(condition, _AgainstThreshold) and condition.threshold <= 0:
        raise InvalidCommandError(
            f"Input should be greater than 0 (prices are: {threshold_problem(condition)})",
            field="condition.threshold",
        )


def threshold_problem(condition: Above | Below | CrossesUp | CrossesDown) -> str:
    """What a threshold of zero or less means: "below -5 could never fire"."""
    said = f"{condition.type.replace('_', ' ')} {condition.threshold:g}"
    if isinstance(condition, Above):
        return f"{said} would fire on every price"
    return f"{said} could never fire"
