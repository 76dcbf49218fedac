"""Errors as problem details (RFC 9457): a JSON body a person can act on.

Every error response has ``type``, ``title``, ``status`` and ``detail``; validation
errors add ``errors``, one entry per offending field. Commands the aggregates refuse map
to statuses: an invalid argument 422 (naming the field), an unknown aggregate 404, a
state that does not allow the command or a lost race 409.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from aggregates.errors import DomainError, InvalidCommandError, NotFoundError

PROBLEM_JSON = "application/problem+json"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class BadParameterError(Exception):
    """A query parameter that is well-formed but not one this API gave out (a forged or
    foreign cursor): 400, naming the parameter like a validation error would."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def http_problem(error: HTTPException) -> JSONResponse:
    """An HTTPException as problem details, with the headers it carries."""
    response = problem(error.status_code, _title(error.status_code), str(error.detail))
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


def install_problem_handlers(app: FastAPI) -> None:
    """Render HTTP and validation errors as problem details."""

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        response = http_problem(error)
        if error.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
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

    async def refused_command(request: Request, error: Exception) -> JSONResponse:
        """A refused command: 422 for an invalid argument, 404 for an unknown aggregate,
        409 for a state that does not allow it or a lost race (ConcurrentUpdateError)."""
        assert isinstance(error, DomainError)
        if isinstance(error, InvalidCommandError):
            message = str(error)
            if error.field:
                message = message.removeprefix(f"{error.field}: ")
            errors = [{"field": error.field or "request", "message": message}]
            return problem(422, "Invalid request", str(error), errors=errors)
        status = 404 if isinstance(error, NotFoundError) else 409
        return problem(status, _title(status), str(error))

    async def bad_parameter(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, BadParameterError)
        field = f"query.{error.parameter}"
        errors = [{"field": field, "message": str(error)}]
        return problem(400, "Bad Request", f"{field}: {error}", errors=errors)

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(BadParameterError, bad_parameter)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(DomainError, refused_command)  # and every subclass


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path.

    Starlette's 405 names only the methods of the first route matching the path, while
    FastAPI declares one route per method: GET and POST of /v1/rules are two routes.
    """

    def served(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)

    return [method for method in METHODS if served(method)]


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
