"""The evaluation sets: conversations of traders' messages, and what each should become.

Two files, the same format (described at the top of ``heldout.yaml``):

- ``development.yaml``: what the understanding is built against;
- ``heldout.yaml``: written before the implementation and never tuned on.

Each message expects a tool call (or several), or a reply of a kind (greeting, thanks,
help, unsupported, clarify), or, answering a confirmation, confirmed or cancelled. Only
the arguments a label names are checked, each by a `Matcher`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

SETS = ("development", "heldout")
SetName = Literal["development", "heldout"]
HERE = Path(__file__).parent
REPLIES = ("greeting", "thanks", "help", "unsupported", "clarify", "confirmed", "cancelled")
STYLES = ("terse", "chatty", "typo", "slang", "question")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EXPIRY_TOLERANCE = timedelta(minutes=10)


class Expectation(BaseModel):
    """What one message should become: `calls` ((tool, arguments) to match), or a
    `reply` of a kind."""

    model_config = ConfigDict(frozen=True)

    calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    reply: str | None = None

    @property
    def intent(self) -> str:
        return self.calls[0][0] if self.calls else str(self.reply)

    @classmethod
    def parse(cls, raw: Any) -> Expectation:
        if isinstance(raw, str):
            if raw not in REPLIES:
                raise ValueError(f"unknown reply {raw!r} (one of {', '.join(REPLIES)})")
            return cls(reply=raw)
        calls = raw if isinstance(raw, list) else [raw]
        parsed = []
        for call in calls:
            if not isinstance(call, dict) or len(call) != 1:
                raise ValueError(f"a call is {{tool: {{argument: value}}}}, not {call!r}")
            ((tool, arguments),) = call.items()
            parsed.append((str(tool), dict(arguments or {})))
        return cls(calls=tuple(parsed))


class Turn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    says: str = Field(min_length=1)
    expect: Expectation

    @model_validator(mode="before")
    @classmethod
    def _expectation(cls, data: Any) -> Any:
        if isinstance(data, dict) and not isinstance(data.get("expect"), Expectation):
            return {**data, "expect": Expectation.parse(data.get("expect"))}
        return data


class Case(BaseModel):
    """One conversation: a message, or several turns."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    style: Literal["terse", "chatty", "typo", "slang", "question"]
    turns: tuple[Turn, ...]

    @model_validator(mode="before")
    @classmethod
    def _one_message(cls, data: Any) -> Any:
        if isinstance(data, dict) and "says" in data:
            rest = {k: v for k, v in data.items() if k not in ("says", "expect")}
            return {**rest, "turns": [{"says": data["says"], "expect": data.get("expect")}]}
        return data


class EvaluationSet(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    symbols: tuple[str, ...] = Field(min_length=1)
    cases: tuple[Case, ...] = Field(min_length=1)

    def messages(self) -> int:
        return sum(len(case.turns) for case in self.cases)


@cache
def load(name: str) -> EvaluationSet:
    """A set by name (``development``, ``heldout``), validated."""
    if name not in SETS:
        raise ValueError(f"unknown evaluation set {name!r} (one of {', '.join(SETS)})")
    data = yaml.safe_load((HERE / f"{name}.yaml").read_text(encoding="utf-8"))
    return EvaluationSet.model_validate({"name": name, **data})


# -- matching arguments ------------------------------------------------------------------------


def arguments_match(expected: dict[str, Any], made: dict[str, Any], now: datetime) -> bool:
    """Whether every argument `expected` names is in `made`, matched (others are free)."""
    return all(name in made and matches(value, made[name], now) for name, value in expected.items())


def matches(expected: Any, actual: Any, now: datetime) -> bool:
    """One argument: equal numbers, text without case or a leading @/$, or a matcher:
    ``{contains: text}``, ``{any: [...]}``, ``{by: day}`` (an expiry on that day)."""
    if isinstance(expected, dict):
        if "contains" in expected:
            return isinstance(actual, str) and str(expected["contains"]).lower() in actual.lower()
        if "any" in expected:
            return any(matches(option, actual, now) for option in expected["any"])
        if "by" in expected:
            return _expires_by(str(expected["by"]), actual, now)
        raise ValueError(f"unknown matcher {expected!r}")
    if isinstance(expected, bool) or isinstance(actual, bool):
        return bool(expected is actual)
    if isinstance(expected, int | float):
        return isinstance(actual, int | float) and math.isclose(expected, actual, rel_tol=1e-9)
    return _text(expected) == _text(actual)


def _text(value: Any) -> str:
    return str(value).strip().lower().lstrip("@$")


def _expires_by(when: str, actual: Any, now: datetime) -> bool:
    try:
        moment = actual if isinstance(actual, datetime) else datetime.fromisoformat(str(actual))
    except ValueError:
        return False
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if when.startswith("+") and when.endswith("h"):
        expected = now + timedelta(hours=float(when[1:-1]))
        return abs(moment - expected) <= EXPIRY_TOLERANCE
    return moment.astimezone(UTC).date() == _day(when, now)


def _day(when: str, now: datetime) -> date:
    today = now.astimezone(UTC).date()
    if when == "today":
        return today
    if when == "tomorrow":
        return today + timedelta(days=1)
    if when == "this_week":
        return today + timedelta(days=6 - today.weekday())
    if when in WEEKDAYS:
        return today + timedelta(days=(WEEKDAYS.index(when) - today.weekday()) % 7)
    raise ValueError(f"unknown expiry {when!r}")


@dataclass(frozen=True)
class Made:
    """What a model made of one message: its calls, or the kind of its reply."""

    calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    reply: str | None = None
    """The reply's kind as marked (offline model, graph); unmarked: "reply", or
    "question" when it asks something."""
    text: str = ""

    @property
    def label(self) -> str:
        return self.calls[0][0] if self.calls else str(self.reply)


def judged(expected: Expectation, made: Made, now: datetime) -> bool:
    """Whether `made` is what `expected` says. An unmarked reply (a provider's model)
    is judged by its shape: no tool call, and a question where one is expected."""
    if expected.calls:
        return _calls_match(expected.calls, made.calls, now)
    if made.calls:
        return False
    if made.reply in ("reply", "question"):
        if expected.reply == "clarify":
            return made.reply == "question"
        return expected.reply != "confirmed"
    return made.reply == expected.reply


def _calls_match(
    expected: tuple[tuple[str, dict[str, Any]], ...],
    made: tuple[tuple[str, dict[str, Any]], ...],
    now: datetime,
) -> bool:
    if len(expected) != len(made):
        return False
    left = list(made)
    for tool, arguments in expected:
        found = next(
            (m for m in left if m[0] == tool and arguments_match(arguments, m[1], now)), None
        )
        if found is None:
            return False
        left.remove(found)
    return True
