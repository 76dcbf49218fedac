"""The source registry: what `impressox up` runs tells whether a chain is watched."""

from __future__ import annotations

from sources.registry import SOURCES, SourceInfo, watches_chain

CHAIN_WATCHER = SourceInfo(
    "chain", "chain watcher", "Logs of watched wallets and contracts.", False, True, "chain"
)


def test_a_chain_is_watched_only_while_a_chain_source_is_configured() -> None:
    assert not watches_chain(["simulator", "posts-import", "x"])
    registry = {**SOURCES, "chain": CHAIN_WATCHER}
    assert watches_chain(["simulator", "chain"], registry)
    assert not watches_chain(["simulator"], registry)
    assert not watches_chain(["unknown"], registry)
