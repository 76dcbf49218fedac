"""The request guard: who is calling, and how much they may send, before any body is read.

FastAPI reads and parses a request's body before it solves the dependencies that
authenticate it, so an unauthenticated client could make the API buffer anything it
sent: a 300 MB ``PUT /me`` took the API from 168 MB to 1.34 GB, which it kept (issue
13), and malformed JSON without a key got 422 instead of 401. This pure ASGI
middleware runs first:

1. A request under ``/v1`` is authenticated (and rate-limited) here, from its headers
   alone; a refusal (401, 429, 503) is answered without reading a byte of the body,
   and the connection is closed with the rest unread. The principal is handed to the
   route's dependencies in the scope (`api.auth.PRINCIPAL`).
2. Every body is bounded while it is read: a declared ``Content-Length`` over the limit
   is refused before the first byte, and the bytes of a chunked body are counted as
   they arrive, so an oversized body is refused after at most `limit` bytes, never
   buffered whole. The refusal is 413 problem+json.

The limit is the route's own when it declares one (`body_limit`, shown in the OpenAPI
document as ``x-max-body-bytes``), else `IMPRESSOX_MAX_BODY_BYTES`. Starlette's
`RequestBodyLimitMiddleware` (behind FastAPI's `max_body_size`) does the counting too,
but answers plain text, and replaces any response, a 401 included, once the declared
length is over the limit.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import PRINCIPAL, bearer_token, client_address, principal_of
from api.context import ApiContext
from api.outages import outage_response
from api.problems import http_problem

MAX_BODY_BYTES = "x-max-body-bytes"
AUTHENTICATED_PREFIX = "/v1/"


def body_limit(max_bytes: int) -> dict[str, Any]:
    """A route's `openapi_extra` for a body limit of its own (bulk endpoints)."""
    return {MAX_BODY_BYTES: max_bytes}


class BodyTooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"the body is larger than {limit} bytes, the most this endpoint accepts"
        )


class RequestGuard:
    """Authenticates ``/v1`` requests and bounds every body (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(AUTHENTICATED_PREFIX):
            refusal = await self._authenticate(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        body = _BoundedBody(scope, receive, self.max_body_bytes)
        await self.app(scope, body.receive, send)

    async def _authenticate(self, scope: Scope) -> ASGIApp | None:
        """Put the caller in the scope; or the response that refuses the request."""
        context: ApiContext = scope["app"].state.context
        connection = HTTPConnection(scope)
        token = bearer_token(connection.headers.get("authorization"))
        try:
            scope[PRINCIPAL] = await principal_of(context, token, client_address(connection))
        except HTTPException as refused:
            return http_problem(refused)
        except Exception as error:
            response = outage_response(error, scope["path"])
            if response is None:
                raise
            return response
        return None


class _BoundedBody:
    """`receive` for one request, refusing a body over its route's limit (413)."""

    def __init__(self, scope: Scope, receive: Receive, default_limit: int) -> None:
        self._scope = scope
        self._receive = receive
        self._default_limit = default_limit
        self._limit: int | None = None
        self._received = 0

    async def receive(self) -> Message:
        if self._limit is None:  # first read: routing is done, the route is known
            self._limit = self._route_limit()
            declared = Headers(scope=self._scope).get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self._limit:
                raise BodyTooLargeError(self._limit)
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._limit:
                raise BodyTooLargeError(self._limit)
        return message

    def _route_limit(self) -> int:
        route = self._scope.get("route")
        extra = getattr(route, "openapi_extra", None) or {}
        limit = extra.get(MAX_BODY_BYTES, self._default_limit)
        return int(limit)
