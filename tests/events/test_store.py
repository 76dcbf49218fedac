"""The event store against one Redis node (the contract; the cluster runs it too)."""

from __future__ import annotations

from tests.events.store_contract import StoreContract


class TestStoreOnOneNode(StoreContract):
    """The store's contract on the session's single Redis (tests/conftest.py)."""
