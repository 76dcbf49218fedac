from __future__ import annotations

import pytest

from events.envelope import Payload
from events.errors import RegistryError, UnknownEventTypeError, UpcastError
from events.registry import PayloadRegistry


class First(Payload):
    a: int


class Second(Payload):
    a: int


def test_type_names_must_be_dotted_lowercase() -> None:
    with pytest.raises(RegistryError, match="dotted lowercase"):
        PayloadRegistry().register(First, "NoDots", 1)


def test_a_name_belongs_to_one_model() -> None:
    registry = PayloadRegistry()
    registry.register(First, "x.first", 1)
    with pytest.raises(RegistryError, match="already registered"):
        registry.register(Second, "x.first", 1)


def test_unknown_names_are_a_callers_error() -> None:
    with pytest.raises(UnknownEventTypeError):
        PayloadRegistry().model("x.none")


def test_a_missing_upcaster_step_is_reported() -> None:
    registry = PayloadRegistry()
    registry.register(First, "x.first", 3)
    registry.add_upcaster("x.first", 1, lambda data: data)
    with pytest.raises(UpcastError, match="v2 -> v3"):
        registry.upcast("x.first", 1, {"a": 1})


def test_upcasters_run_in_sequence() -> None:
    registry = PayloadRegistry()
    registry.register(First, "x.first", 3)
    registry.add_upcaster("x.first", 1, lambda data: {"a": data["old"]})
    registry.add_upcaster("x.first", 2, lambda data: {"a": data["a"] * 10})
    assert registry.upcast("x.first", 1, {"old": 2}) == {"a": 20}
    assert registry.names() == ["x.first"]
