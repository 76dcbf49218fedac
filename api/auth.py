"""Authentication and authorisation: `Authorization: Bearer <key>`, scopes, rate limits.

Every endpoint but /healthz, /readyz and the docs depends on one of the dependencies
here. Under /v1 the request guard (`api.guard`) has already found the caller, before
the body was read, and the dependency takes it from the scope. Scopes: ``user`` (own
data only), ``admin`` (everything, replay and rebuild), ``ingest`` (append events from
outside). Refusals are problem+json: 401 without a valid key, 403 for a key without the
scope, 429 over the key's or its user's rate (or, without a valid key, the address's).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from api.context import ApiContext, api_context
from api.keys import Principal
from api.rate_limit import Verdict

bearer = HTTPBearer(
    auto_error=False,
    description="An Impressox API key (`ixk_…`); `impressox keys create` issues one.",
)

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}

PRINCIPAL = "impressox.principal"
"""The scope key under which the request guard (`api.guard`) hands a route its caller."""


def bearer_token(header: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header; None for none or another scheme."""
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def principal_of(
    context: ApiContext, token: str | None, address: str, *, address_paid: bool = False
) -> Principal:
    """The principal of a token, or 401; takes a token from its key's and its user's rate
    buckets (429). Without a valid key, the client `address`'s bucket pays (429 too),
    unless it paid already (`address_paid`: a WebSocket handshake without a header)."""
    principal = await context.keys.authenticate(token) if token else None
    if principal is None:
        if not address_paid:
            verdict = await context.limiter.take_anonymous(address)
            if not verdict.allowed:
                raise too_many(verdict)
        raise HTTPException(
            401,
            "the API key is not valid (malformed, unknown or revoked)"
            if token
            else "this endpoint needs an API key: send `Authorization: Bearer <key>`",
            headers=UNAUTHORIZED_HEADERS,
        )
    verdict = await context.limiter.take(principal)
    if not verdict.allowed:
        raise too_many(verdict)
    return principal


def too_many(verdict: Verdict) -> HTTPException:
    """The 429 of a refused verdict."""
    return HTTPException(
        429,
        f"over {verdict.limit}; retry in {verdict.retry_after_s}s",
        headers={"Retry-After": str(verdict.retry_after_s)},
    )


def client_address(connection: HTTPConnection) -> str:
    """Who sent the request, as the server saw it (behind a proxy: its X-Forwarded-For
    when uvicorn trusts the proxy, see `--forwarded-allow-ips`)."""
    return connection.client.host if connection.client else "unknown"


async def authenticated(
    connection: HTTPConnection,
    context: Annotated[ApiContext, Depends(api_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller: as the request guard found it (every /v1 request), else checked here."""
    principal: Principal | None = connection.scope.get(PRINCIPAL)
    if principal is not None:
        return principal
    token = credentials.credentials if credentials else None
    return await principal_of(context, token, client_address(connection))


def scoped(scope: str):  # type: ignore[no-untyped-def]
    async def check(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if scope not in principal.scopes and not principal.is_admin:
            raise HTTPException(403, f"this endpoint needs an API key with the {scope!r} scope")
        return principal

    return check


def require_visible(principal: Principal, owner_id: object, what: str) -> None:
    """404 for another user's resource: a user cannot even learn that it exists."""
    if not principal.may_see(str(owner_id)):
        raise HTTPException(404, f"no {what}")
