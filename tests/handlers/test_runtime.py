"""The consumer-group runtime against one Redis node (the contract; the cluster runs it too)."""

from __future__ import annotations

import pytest

from handlers.declaration import HandlerRegistry, handler
from tests.handlers.runtime_contract import RuntimeContract


class TestRuntimeOnOneNode(RuntimeContract):
    """The runtime's contract on the session's single Redis (tests/conftest.py)."""


@pytest.mark.parametrize("bad", ["Bad Name", "x" * 70])
def test_handler_names_must_make_clean_keys(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid handler name"):
        handler(bad, categories=["pings"], registry=HandlerRegistry())
