"""Documents: texts people add to the knowledge base, and their removal.

A document belongs to a scope: shared with everyone (an operator added it, with an admin
key or the CLI) or private to the user who added it. Its `document_id` is unique within
its scope, so two traders may both keep notes called ``strategy``; `document_key` joins
the two, and is the partition key, so a document's additions and removals stay in order.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, Field

from events.catalog.common import CatalogPayload
from events.registry import event_type

MAX_TEXT_BYTES = 1_000_000
"""The largest text a document may have, in UTF-8 bytes: a stream entry, not a file store."""
MAX_SYMBOLS = 20
SHARED = "shared"
"""The scope of documents everyone may read."""

DocumentId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$",
        description="Unique within its scope (yours, or the shared one): letters, digits,"
        " '_', '.', '-', at most 128, e.g. `eth-staking-notes`",
    ),
]
DocumentSymbol = Annotated[
    str,
    Field(
        pattern=r"^[A-Z0-9]{2,12}(/[A-Z0-9]{2,12})?$",
        description="A ticker or a BASE/QUOTE pair in capitals, e.g. BTC or BTC/USDT",
    ),
]
DocumentFormat = Literal["markdown", "text"]


def _bounded_text(text: str) -> str:
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        raise ValueError("holds characters UTF-8 cannot encode (lone surrogates)") from None
    if size > MAX_TEXT_BYTES:
        raise ValueError(f"at most {MAX_TEXT_BYTES} bytes of UTF-8, not {size}")
    if not text.strip():
        raise ValueError("holds nothing but white space")
    return text


DocumentText = Annotated[
    str,
    Field(min_length=1, description=f"At most {MAX_TEXT_BYTES} bytes of UTF-8"),
    AfterValidator(_bounded_text),
]


def document_key(owner: UUID | None, document_id: str) -> str:
    """The document's key: its scope (the owner, or ``shared``) and its id."""
    return f"{owner if owner is not None else SHARED}:{document_id}"


@event_type("document.added")
class DocumentAdded(CatalogPayload):
    """A document to index. `owner` None: shared; otherwise only `owner` finds it.

    `added_by` is who added it: a user id, or None for an operator at the CLI.
    """

    category: ClassVar[str] = "documents"

    document_id: DocumentId
    title: str = Field(min_length=1, max_length=256)
    source: str = Field(
        min_length=1, max_length=2048, description="Where it comes from: a URL, or `manual`"
    )
    format: DocumentFormat = "text"
    text: DocumentText
    symbols: tuple[DocumentSymbol, ...] = Field(default=(), max_length=MAX_SYMBOLS)
    owner: UUID | None = None
    added_by: UUID | None = None
    added_at: AwareDatetime

    @property
    def key(self) -> str:
        return document_key(self.owner, self.document_id)

    def same_content(self, other: DocumentAdded) -> bool:
        """Whether `other` adds the same document (who added it and when aside)."""
        ignored = {"added_by", "added_at"}
        return self.model_dump(exclude=ignored) == other.model_dump(exclude=ignored)

    def partition_key(self) -> str:
        return self.key


@event_type("document.removed")
class DocumentRemoved(CatalogPayload):
    """The document `document_id` of the scope `owner` is gone from the knowledge base."""

    category: ClassVar[str] = "documents"

    document_id: DocumentId
    owner: UUID | None = None
    removed_by: UUID | None = None
    removed_at: AwareDatetime

    @property
    def key(self) -> str:
        return document_key(self.owner, self.document_id)

    def partition_key(self) -> str:
        return self.key
