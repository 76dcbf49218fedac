from __future__ import annotations

from collections import Counter

import pytest
from redis.crc import key_slot

from events.names import StreamNames, partition_of


def test_partitioning_is_stable_across_processes() -> None:
    # CRC-32 of the key's UTF-8 bytes: these values must never change.
    assert [partition_of(key, 4) for key in ("BTC/USDT", "ETH/USDT", "user-42")] == [3, 1, 3]


def test_partitions_share_load() -> None:
    counts = Counter(partition_of(f"key-{i}", 8) for i in range(8000))
    assert set(counts) == set(range(8))
    assert min(counts.values()) > 800


def test_everything_of_one_partition_shares_a_cluster_slot() -> None:
    names = StreamNames("ix", 4)
    for tag in names.partition_tags():
        keys = [
            names.stream(tag, "ticks"),
            names.stream(tag, "alerts"),
            names.dedup_index(names.stream(tag, "ticks")),
            names.dead_letters(tag, "rules"),
            names.tracking(tag, "rules"),
            names.stats(tag, "rules"),
            names.lease(tag, "rules"),
        ]
        assert len({key_slot(key.encode()) for key in keys}) == 1


def test_stream_names_follow_the_layout() -> None:
    names = StreamNames("ix", 4)
    assert names.stream_for_key("ticks", "BTC/USDT") == "ix:{p3}:ticks"
    assert names.category_streams("ticks")[3] == "ix:{p3}:ticks"
    assert names.dead_letters("p2", "rules") == "ix:{p2}:dead.rules"
    assert names.parse("ix:{p2}:dead.rules") == ("p2", "dead.rules")


@pytest.mark.parametrize("category", ["", "Ticks", "a:b", "1abc", "x" * 65, "a b"])
def test_categories_that_would_clash_with_our_keys_are_refused(category: str) -> None:
    with pytest.raises(ValueError, match="invalid category"):
        StreamNames().stream("p0", category)


def test_foreign_stream_names_are_refused() -> None:
    with pytest.raises(ValueError, match="not an Impressox stream"):
        StreamNames("ix").parse("other:{p0}:ticks")


@pytest.mark.parametrize("partitions", [0, 1025])
def test_partition_count_is_bounded(partitions: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 1024"):
        StreamNames("ix", partitions)


def test_a_chain_watchers_journal_and_state_share_one_slot() -> None:
    names = StreamNames("ix")
    keys = [names.chain_journal(), StreamNames.dedup_index(names.chain_journal())]
    keys += [names.chain_state(part, 31337) for part in ("cursor", "window", "lease")]
    assert keys[0] == "ix:{chain}:journal"
    assert keys[2] == "ix:{chain}:cursor.31337"
    assert len({key_slot(key.encode()) for key in keys}) == 1
    with pytest.raises(ValueError, match="no chain state part"):
        names.chain_state("journal", 1)
    with pytest.raises(ValueError, match="a chain id is positive"):
        names.chain_state("cursor", 0)
