"""The knowledge base: add your documents to it, remove them, search it.

A document added with a user key is private to that user; one added with an admin key
is shared with everyone (operators publish; traders keep notes). A search answers with
what the caller may read: posts, shared documents and their own. Adding is idempotent
by document id (see `knowledge.documents`); the knowledge handler indexes the
document a moment after the 202, in chunks, never as a whole.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.commands import COMMAND_REFUSALS, Accepted
from api.consistency import format_position
from api.deps import Context, UserKey
from api.guard import body_limit
from api.keys import Principal
from api.reading import problem_responses
from events.catalog.documents import (
    MAX_SYMBOLS,
    MAX_TEXT_BYTES,
    DocumentAdded,
    DocumentFormat,
    DocumentId,
    DocumentSymbol,
    DocumentText,
)
from knowledge.documents import DocumentLibrary, DocumentReceipt
from knowledge.errors import (
    DocumentConflictError,
    DocumentNotFoundError,
    EmbeddingMismatchError,
    KnowledgeBaseUnavailableError,
)
from knowledge.search import SearchFilters

router = APIRouter(prefix="/knowledge", tags=["knowledge"])

MAX_HITS = 20
DOCUMENT_MAX_BODY_BYTES = 8 * 2**20
"""A document of MAX_TEXT_BYTES, with room for JSON's escapes."""
Visibility = Literal["shared", "private"]


class DocumentCreate(BaseModel):
    """A document to add: Markdown is chunked section by section, under its headings."""

    model_config = ConfigDict(extra="forbid")

    id: DocumentId
    title: str = Field(min_length=1, max_length=256)
    source: str = Field(
        default="manual", min_length=1, max_length=2048, description="A URL, or `manual`."
    )
    format: DocumentFormat = "markdown"
    text: DocumentText = Field(description=f"At most {MAX_TEXT_BYTES} bytes of UTF-8.")
    symbols: list[DocumentSymbol] = Field(default_factory=list, max_length=MAX_SYMBOLS)


class DocumentAccepted(Accepted):
    """The receipt of an addition or a removal: `position` is its event's.

    409 on an addition: a document with this id exists with other content (remove it
    first to replace it).
    """

    event_id: str
    visibility: Visibility = Field(description="shared (admin keys) or private to you.")
    duplicate: bool = Field(description="Done already (a retry): nothing was appended.")


class KnowledgeHit(BaseModel):
    """A passage found: a chunk of a post or a document, never a whole document."""

    id: str
    score: float = Field(description="Cosine similarity to the query; 1 is the closest.")
    text: str
    kind: str = Field(description="post or document")
    source: str | None = None
    title: str | None = None
    section: str | None = Field(default=None, description="Headings above it: `A > B`.")
    author: str | None = None
    engagement: int | None = None
    url: str | None = None
    document_id: str | None = None
    visibility: Visibility = "shared"
    symbols: list[str] = Field(default_factory=list)
    created_at: datetime | None = None


class KnowledgeResults(BaseModel):
    query: str
    hits: list[KnowledgeHit]


UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "The knowledge base cannot be searched now (Chroma is down, or it"
          " holds vectors of other embeddings until a reindex): the detail says which."}
}  # fmt: skip


@router.post(
    "/documents",
    response_model=DocumentAccepted,
    status_code=202,
    summary="Add a document (private with a user key, shared with an admin key)",
    openapi_extra=body_limit(DOCUMENT_MAX_BODY_BYTES),
    responses=COMMAND_REFUSALS,
)
async def add_document(
    document: DocumentCreate, principal: UserKey, context: Context
) -> DocumentAccepted:
    added = DocumentAdded(
        document_id=document.id,
        title=document.title,
        source=document.source,
        format=document.format,
        text=document.text,
        symbols=tuple(document.symbols),
        owner=_scope(principal),
        added_by=principal.user_id,
        added_at=datetime.now(UTC),
    )
    try:
        receipt = await DocumentLibrary(context.store).add(added)
    except DocumentConflictError as error:
        raise HTTPException(409, str(error)) from None
    return _accepted(receipt, principal)


@router.delete(
    "/documents/{document_id}",
    response_model=DocumentAccepted,
    status_code=202,
    summary="Remove one of your documents (or, with an admin key, a shared one)",
    responses={
        **COMMAND_REFUSALS,
        **problem_responses(404, s404="No such document among yours (or the shared ones)."),
    },
)
async def remove_document(
    document_id: Annotated[DocumentId, Path()], principal: UserKey, context: Context
) -> DocumentAccepted:
    try:
        receipt = await DocumentLibrary(context.store).remove(
            _scope(principal), document_id, removed_by=principal.user_id
        )
    except DocumentNotFoundError as error:
        raise HTTPException(404, str(error)) from None
    return _accepted(receipt, principal)


@router.get(
    "/search",
    response_model=KnowledgeResults,
    summary="The passages closest to a query: posts, shared documents and yours",
    responses={**problem_responses(401, 403, 422, 429), **UNAVAILABLE},
)
async def search_knowledge(
    principal: UserKey,
    context: Context,
    q: Annotated[str, Query(min_length=1, max_length=500, description="What to look for.")],
    symbol: Annotated[
        DocumentSymbol | None, Query(description="Only passages about it (BTC or BTC/USDT).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_HITS, description="Passages to return.")] = 5,
) -> KnowledgeResults:
    filters = SearchFilters(symbol=symbol, viewer=str(principal.user_id))
    try:
        hits = await context.knowledge.search(q, k=limit, filters=filters)
    except (EmbeddingMismatchError, KnowledgeBaseUnavailableError) as error:
        raise HTTPException(503, str(error)) from None
    return KnowledgeResults(
        query=q,
        hits=[
            KnowledgeHit.model_validate(
                {
                    **hit.metadata,
                    "id": hit.id,
                    "score": hit.score,
                    "text": hit.text,
                    "kind": hit.metadata.get("kind", "post"),
                    "created_at": _moment(hit.metadata.get("created_at")),
                }
            )
            for hit in hits
        ],
    )


def _scope(principal: Principal) -> UUID | None:
    """Whose documents the caller adds and removes: the shared ones for an admin."""
    return None if principal.is_admin else principal.user_id


def _accepted(receipt: DocumentReceipt, principal: Principal) -> DocumentAccepted:
    return DocumentAccepted(
        id=receipt.document_id,
        position=format_position(receipt.stream, receipt.position),
        event_id=str(receipt.event_id),
        visibility="shared" if principal.is_admin else "private",
        duplicate=receipt.duplicate,
    )


def _moment(epoch: object) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if isinstance(epoch, int) else None
