"""Every Redis key and stream name Impressox uses, built in one place.

Names carry a Redis Cluster hash tag (the part in braces) so that everything one atomic
script touches lives in one hash slot: a partition's streams, their dedup indexes, and
each handler's tracking, lease and counters for that partition all share ``{pN}``. The
same names work unchanged on a single Redis, where the braces are just characters.

Layout, with the default prefix ``ix``::

    ix:{p3}:ticks                 category "ticks", partition 3 (a stream)
    ix:{p3}:ticks:ids             event id -> position, for idempotent appends (a hash)
    ix:{p3}:dead.rules            dead letters of handler "rules" in partition 3 (a stream)
    ix:{p3}:track:rules           last position handler "rules" committed, per stream (hash)
    ix:{p3}:stats:rules           processed / failed / dead-lettered counters (hash)
    ix:{p3}:lease:rules           which consumer of "rules" owns partition 3 (string, PX)
    ix:members:rules              live consumers of "rules" and their expiry (sorted set)
    ix:live:conversation:<id>     the agent's reply text as it is written (Pub/Sub channel)
    ix:{app.users}:api-keys       API keys by key id (hash, owner, scopes), for the API (hash)
    ix:{rate.<owner>}:<bucket>    a rate limit's token bucket (a user's, a key's, an address's)
    ix:{chain}:journal            what every chain watcher appended, before re-partitioning
    ix:{chain}:cursor.31337       a chain's cursor: block number, hash, confirmed height
"""

from __future__ import annotations

import re
import zlib

_CATEGORY = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_GROUP = re.compile(r"^[a-z][a-z0-9_-]{0,57}$")
"""58 characters at most, so that its retry stream (``retry.<handler>``) is a valid category."""
_TAG = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,127}$")
_ORIGINATOR = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
_STREAM = re.compile(r"^(?P<prefix>[^:{}]+):\{(?P<tag>[^{}]+)\}:(?P<category>[^:{}]+)$")

DEAD_LETTER_PREFIX = "dead."

CHAIN_TAG = "chain"
"""The hash tag of every chain watcher's journal and state: one slot, so that a watcher's
appends and its cursor are one atomic script on a cluster, and one handler (whose tags
are declared, not configured) re-partitions the journals of all chains."""


def check_category(category: str) -> str:
    """Refuse category names that could collide with our other keys."""
    if not _CATEGORY.match(category):
        raise ValueError(
            f"invalid category {category!r}: use lowercase letters, digits, '_', '.', '-',"
            " starting with a letter, at most 64 characters"
        )
    return category


def check_group(group: str) -> str:
    """Refuse handler (consumer group) names that would not make clean key names."""
    if not _GROUP.match(group):
        raise ValueError(
            f"invalid handler name {group!r}: use lowercase letters, digits, '_', '-',"
            " starting with a letter, at most 58 characters"
        )
    return group


def partition_of(key: str, partitions: int) -> int:
    """The partition of an event key: CRC-32 of its UTF-8 bytes, modulo the count.

    Stable across processes, machines and Python versions (unlike ``hash()``), so every
    producer routes a key to the same partition. Changing the partition count moves
    keys; that is a migration, not a setting to flip on a live system.
    """
    return zlib.crc32(key.encode("utf-8")) % partitions


class StreamNames:
    """Builds the names of streams and keys for one deployment (prefix and partitions)."""

    def __init__(self, prefix: str = "ix", partitions: int = 4) -> None:
        if not re.match(r"^[a-zA-Z0-9_.-]{1,32}$", prefix):
            raise ValueError(f"invalid stream prefix {prefix!r}")
        if not 1 <= partitions <= 1024:
            raise ValueError(f"partitions must be between 1 and 1024, not {partitions}")
        self.prefix = prefix
        self.partitions = partitions
        self._category_streams: dict[str, list[str]] = {}

    # -- partitions ---------------------------------------------------------------------

    def partition_tags(self) -> list[str]:
        """The hash tags of all partitions, in partition order."""
        return [f"p{index}" for index in range(self.partitions)]

    def tag_for_key(self, key: str) -> str:
        """The hash tag of the partition an event key routes to."""
        return f"p{partition_of(key, self.partitions)}"

    # -- streams ------------------------------------------------------------------------

    def stream(self, tag: str, category: str) -> str:
        """The stream of `category` inside hash tag `tag`."""
        if not _TAG.match(tag):
            raise ValueError(f"invalid hash tag {tag!r}")
        return f"{self.prefix}:{{{tag}}}:{check_category(category)}"

    def stream_for_key(self, category: str, key: str) -> str:
        """The partition stream of `category` that events with `key` go to."""
        return self._streams(category)[partition_of(key, self.partitions)]

    def category_streams(self, category: str) -> list[str]:
        """Every partition stream of `category`, in partition order."""
        return list(self._streams(category))

    def _streams(self, category: str) -> list[str]:
        streams = self._category_streams.get(category)
        if streams is None:
            streams = [self.stream(tag, category) for tag in self.partition_tags()]
            self._category_streams[category] = streams
        return streams

    def dead_letters(self, tag: str, group: str) -> str:
        """Where handler `group` puts entries of partition `tag` it gave up on."""
        return self.stream(tag, DEAD_LETTER_PREFIX + check_group(group))

    def parse(self, stream: str) -> tuple[str, str]:
        """Split one of our stream names into its (tag, category)."""
        match = _STREAM.match(stream)
        if not match or match["prefix"] != self.prefix:
            raise ValueError(f"{stream!r} is not an Impressox stream name")
        return match["tag"], match["category"]

    def tag_of(self, stream: str) -> str:
        """The hash tag of one of our streams."""
        return self.parse(stream)[0]

    def stream_pattern(self) -> str:
        """A SCAN pattern that matches all our streams (and some other keys: filter by type)."""
        return f"{self.prefix}:{{*}}:*"

    # -- applications of the eventsourcing library ---------------------------------------

    @staticmethod
    def application_tag(application: str) -> str:
        """The hash tag holding everything of one application: events, log, tracking.

        One slot per application is what makes an insert (events of several aggregates,
        their notifications and a tracking record) one atomic script on a cluster.
        """
        slug = re.sub(r"[^a-z0-9]+", "-", application.lower()).strip("-")
        if not slug:
            raise ValueError(f"application name {application!r} has no letters or digits")
        return f"app.{slug}"

    def aggregate_stream(self, tag: str, kind: str, originator_id: str) -> str:
        """The stream of one aggregate's events (kind "agg") or snapshots (kind "snap")."""
        if not _ORIGINATOR.match(originator_id):
            raise ValueError(
                f"originator id {originator_id!r} cannot name a stream: use letters, digits,"
                " '_', '.', '-', '@' (at most 128)"
            )
        return f"{self.prefix}:{{{tag}}}:{check_category(kind)}.{originator_id}"

    def notification_log(self, tag: str) -> str:
        """The application's notification log: every event of it, in commit order."""
        return self.stream(tag, "log")

    def notification_index(self, tag: str) -> str:
        """Notification id -> the millisecond half of its log position."""
        return f"{self.notification_log(tag)}:index"

    def application_tracking(self, tag: str) -> str:
        """The last notification id the application processed, per upstream application."""
        return f"{self.prefix}:{{{tag}}}:tracking"

    # -- keys beside the streams --------------------------------------------------------

    @staticmethod
    def dedup_index(stream: str) -> str:
        """The hash of event id -> position that makes appends to `stream` idempotent."""
        return f"{stream}:ids"

    def tracking(self, tag: str, group: str) -> str:
        """The last position `group` committed, per stream of partition `tag`."""
        return f"{self.prefix}:{{{tag}}}:track:{check_group(group)}"

    def stats(self, tag: str, group: str) -> str:
        """Counters of `group` in partition `tag`, updated in the same atomic steps."""
        return f"{self.prefix}:{{{tag}}}:stats:{check_group(group)}"

    def lease(self, tag: str, group: str) -> str:
        """Which consumer of `group` owns partition `tag` right now."""
        return f"{self.prefix}:{{{tag}}}:lease:{check_group(group)}"

    def bot_health(self, platform: str) -> str:
        """A running chat bot's health (hash: connected, counters; it expires when the
        bot stops publishing, see `bots.health`)."""
        return f"{self.prefix}:bots:health:{platform}"

    def members(self, group: str) -> str:
        """The live consumers of `group`, scored by when their heartbeat expires."""
        return f"{self.prefix}:members:{check_group(group)}"

    def reply_channel(self, conversation_id: str) -> str:
        """The Pub/Sub channel of a conversation's reply tokens: ephemeral, not a stream
        (the reply itself is an event; these are its text while it is being written)."""
        return f"{self.prefix}:live:conversation:{conversation_id}"

    def api_keys(self, tag: str) -> str:
        """API keys by key id (their hashes, owners and scopes) folded from the log of the
        application `tag`: what the API authenticates against, without MongoDB."""
        return f"{self.prefix}:{{{tag}}}:api-keys"

    def rate_bucket(self, owner: str, bucket: str) -> str:
        """The token bucket `bucket` of `owner` (a user, or a client address): one owner's
        buckets share a slot, so one script takes from all of them at once."""
        return f"{self.prefix}:{{rate.{owner}}}:{bucket}"

    # -- the chain watcher --------------------------------------------------------------

    def chain_journal(self) -> str:
        """Every chain event the watchers append, in order, before re-partitioning."""
        return self.stream(CHAIN_TAG, "journal")

    def chain_abis(self) -> str:
        """The contract ABIs users registered, as events (a stream)."""
        return self.stream(CHAIN_TAG, "abis")

    def chain_state(self, part: str, chain_id: int) -> str:
        """One part of a chain watcher's state, beside its journal in the ``{chain}`` slot.

        Parts: ``cursor`` (block number, hash and confirmed height: a string), ``window``
        (recent blocks and what was observed in them: a hash), ``reorged`` (block hash ->
        times retracted), ``tokens`` (token -> decimals and symbol), ``lease`` (which
        process follows the chain), ``status`` (what it saw last).
        """
        if part not in _CHAIN_STATE_PARTS:
            raise ValueError(f"no chain state part {part!r}")
        if chain_id < 1:
            raise ValueError(f"a chain id is positive, not {chain_id}")
        return f"{self.prefix}:{{{CHAIN_TAG}}}:{part}.{chain_id}"

    def chain_leases(self) -> str:
        """A pattern matching every chain watcher's lease key (`chain_state` ``lease``)."""
        return f"{self.prefix}:{{{CHAIN_TAG}}}:lease.*"


_CHAIN_STATE_PARTS = frozenset({"cursor", "window", "reorged", "tokens", "lease", "status"})
