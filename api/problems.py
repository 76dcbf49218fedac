"""Errors as problem details (RFC 9457): a JSON body a person can act on.

Every error response has ``type``, ``title``, ``status`` and ``detail``; validation
errors add ``errors``, one entry per offending field.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Render HTTP and validation errors as problem details."""

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        title = _title(error.status_code)
        response = problem(error.status_code, title, str(error.detail))
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    async def validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        fields = [
            {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
            for item in error.errors()
        ]
        first = fields[0] if fields else {"field": "request", "message": "invalid"}
        return problem(
            422, "Invalid request", f"{first['field']}: {first['message']}", errors=fields
        )

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
