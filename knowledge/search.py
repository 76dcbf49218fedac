"""Searching the knowledge base: nearest chunks to a query, narrowed by metadata.

Used by the CLI, the agent and the API. Scores are cosine similarities (1 is the same
direction), since every collection is built with the cosine space.

Filtering after the nearest-neighbour search, not before: embedded Chroma (and ``chroma
run``) answers a query with a ``where`` clause by first listing *every* chunk the clause
matches in SQLite, then searching the HNSW index restricted to them, so a broad filter (a
symbol, a minimum engagement, the viewer's visibility) costs in proportion to the chunks
it lets through: ~300 ms over 100,000 chunks. Instead we take the `candidates_for(k)`
nearest chunks, unfiltered, and test them here; if at least `k` pass, those are the
answer, in ~20 ms. Otherwise (a narrow filter) Chroma is asked again with the ``where``
clause, which is then cheap, since few chunks match it.

Both ways give the same hits: the nearest `k` chunks passing a filter are the first `k`
passing it in the order of nearness, so when they are all among the nearest candidates
they are found there. Both rest on the HNSW index, which is approximate; so that the
order of the candidates is as exact as a filtered search's, the index is asked for
`POOL_FACTOR` times as many neighbours as are read (ids and distances only, which are
cheap): HNSW keeps that many candidates while it walks the graph. (Measured on the
benchmark's 200 searches over 100,000 chunks: the exact top 5 in 198 both ways; in 132
when the index was asked for the candidates alone.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeGuard

import structlog

from knowledge.embeddings import Embeddings
from knowledge.indexer import base_symbol
from knowledge.store import KnowledgeCollection, KnowledgeStore, QueryRow

log = structlog.get_logger(__name__)

OVERSAMPLE = 20
"""Candidates read per hit wanted: enough when about one chunk in ten passes the filter
(one symbol in eight, most engagement thresholds); reading 100 takes ~7 ms."""
MIN_CANDIDATES = 100
"""Fewer candidates would send even a filter passing one chunk in ten to the slow query."""
POOL_FACTOR = 8
"""Neighbours asked of the index per candidate read: as many as a filtered search passing
one chunk in eight walks through."""

Operator = Literal["$eq", "$ne", "$gte", "$lte", "$contains"]


def _number(value: object) -> TypeGuard[int | float]:
    # Chroma stores bools apart from numbers: True never equals or exceeds 1 there.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(found: object, wanted: str | int) -> bool:
    if isinstance(wanted, str):
        return isinstance(found, str) and found == wanted
    return _number(found) and found == wanted


def _at_least(found: object, bound: str | int) -> bool:
    if isinstance(bound, str):
        return isinstance(found, str) and found >= bound
    return _number(found) and found >= bound


def _at_most(found: object, bound: str | int) -> bool:
    if isinstance(bound, str):
        return isinstance(found, str) and found <= bound
    return _number(found) and found <= bound


def _contains(found: object, wanted: str | int) -> bool:
    # $contains looks into list values only, at items of the same type as `wanted`.
    return isinstance(found, list) and any(
        type(item) is type(wanted) and item == wanted for item in found
    )


_TESTS: dict[Operator, Callable[[object, str | int], bool]] = {
    "$eq": _equal,
    "$ne": lambda found, wanted: not _equal(found, wanted),  # a missing key is unequal
    "$gte": _at_least,
    "$lte": _at_most,
    "$contains": _contains,
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One test of a metadata key, written for Chroma (`where`) and run in Python
    (`matches`) with the meaning Chroma's SQLite metadata segment (embedded, and
    ``chroma run``) gives it: the two must never differ."""

    key: str
    operator: Operator
    value: str | int

    def where(self) -> dict[str, Any]:
        return {self.key: {self.operator: self.value}}

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        return _TESTS[self.operator](metadata.get(self.key), self.value)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Conditions of which one is enough (Chroma's ``$or``)."""

    conditions: tuple[Condition, ...]

    def where(self) -> dict[str, Any]:
        return {"$or": [condition.where() for condition in self.conditions]}

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        return any(condition.matches(metadata) for condition in self.conditions)


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Conditions every returned chunk meets; None leaves a condition out."""

    symbol: str | None = None
    author: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_engagement: int | None = None
    viewer: str | None = None
    """A user id: their private documents and everything not private, never another
    user's private documents. None (operators): everything."""

    def conditions(self) -> list[Condition | AnyOf]:
        """What a chunk must meet, all of it."""
        conditions: list[Condition | AnyOf] = []
        if self.symbol is not None:
            conditions.append(Condition("symbols", "$contains", base_symbol(self.symbol)))
        if self.author is not None:
            conditions.append(Condition("author", "$eq", self.author))
        if self.source is not None:
            conditions.append(Condition("source", "$eq", self.source))
        if self.since is not None:
            conditions.append(Condition("created_at", "$gte", int(self.since.timestamp())))
        if self.until is not None:
            conditions.append(Condition("created_at", "$lte", int(self.until.timestamp())))
        if self.min_engagement is not None:
            conditions.append(Condition("engagement", "$gte", self.min_engagement))
        if self.viewer is not None:
            # $ne also matches chunks without the key (posts, older chunks): not private.
            conditions.append(
                AnyOf(
                    (
                        Condition("visibility", "$ne", "private"),
                        Condition("owner", "$eq", self.viewer),
                    )
                )
            )
        return conditions

    def where(self) -> dict[str, Any] | None:
        """The conditions as a Chroma ``where`` clause."""
        clauses = [condition.where() for condition in self.conditions()]
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One chunk found: its text, how close it is, and its metadata."""

    id: str
    text: str
    score: float
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Matches:
    """The nearest chunks meeting a filter, and whether the candidates sufficed
    (`post_filtered`) or Chroma was asked again with the filter."""

    rows: list[QueryRow]
    post_filtered: bool


def candidates_for(k: int) -> int:
    """How many nearest chunks to read and test for `k` filtered hits."""
    return max(k * OVERSAMPLE, MIN_CANDIDATES)


async def nearest_matching(
    collection: KnowledgeCollection,
    vector: Sequence[float],
    k: int,
    filters: SearchFilters,
    *,
    candidates: int | None = None,
) -> Matches:
    """The `k` chunks nearest to `vector` that meet `filters`, nearest first.

    First among the `candidates` nearest chunks (default `candidates_for(k)`), tested
    here; if fewer than `k` of them pass while the collection holds more, by Chroma's
    filtered query. See the module's docstring for why both give the same hits.
    """
    where = filters.where()
    if where is None:
        return Matches(await collection.query(vector, k, None), post_filtered=False)
    conditions = filters.conditions()
    read = max(candidates if candidates is not None else candidates_for(k), k)
    pool = await collection.nearest(vector, read * POOL_FACTOR)
    rows = await collection.read(pool[:read])
    passing = [row for row in rows if all(c.matches(row.metadata) for c in conditions)]
    if len(passing) >= k or len(pool) <= read:  # enough, or every chunk was read
        return Matches(passing[:k], post_filtered=True)
    return Matches(await collection.query(vector, k, where), post_filtered=False)


async def search(
    store: KnowledgeStore,
    embeddings: Embeddings,
    query: str,
    *,
    k: int = 5,
    filters: SearchFilters | None = None,
) -> list[SearchHit]:
    """The `k` chunks closest to `query`, best first; none while nothing is indexed.

    Raises `EmbeddingMismatchError` if the active collection holds other vectors than
    `embeddings` make: a query vector from another model would match nonsense.
    """
    collection = await store.find_active(embeddings)
    if collection is None:
        return []
    (vector,) = await embeddings.embed([query])
    found = await nearest_matching(collection, vector, k, filters or SearchFilters())
    log.debug("knowledge searched", hits=len(found.rows), post_filtered=found.post_filtered)
    return [
        SearchHit(id=row.id, text=row.text, score=1.0 - row.distance, metadata=row.metadata)
        for row in found.rows
    ]
