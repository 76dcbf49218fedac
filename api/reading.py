"""What read endpoints share: paging and filter parameters, and how refusals are documented.

Filters are checked at the boundary, so a query that reaches MongoDB is always one the
read model's indexes serve: symbols in one spelling, times with an offset and in order,
a limit of at most `MAX_LIMIT`. Refusals are problem+json (see `api.problems`); their
schemas are written into the OpenAPI document under that media type, which is the one
the responses carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, StringConstraints

from api.pagination import MAX_LIMIT
from api.problems import PROBLEM_JSON

SYMBOL_PATTERN = r"^[A-Z0-9]{2,12}[/-][A-Z0-9]{2,12}$"


def canonical_symbol(symbol: str) -> str:
    """``BTC-USDT`` as ``BTC/USDT``, the spelling events and read models use."""
    return symbol.replace("-", "/")


Symbol = Annotated[str, StringConstraints(pattern=SYMBOL_PATTERN), AfterValidator(canonical_symbol)]
"""A symbol as BASE/QUOTE or BASE-QUOTE in capitals (query strings may carry either)."""

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Cursor = Annotated[
    str | None,
    Query(max_length=2048, description="The `next_cursor` of the previous page, unchanged."),
]


def invalid(field: str, message: str) -> RequestValidationError:
    """A refusal of one query parameter, rendered like every other validation error."""
    return RequestValidationError(
        [{"loc": ("query", field), "msg": message, "type": "value_error", "input": None}]
    )


@dataclass(frozen=True)
class TimeWindow:
    """From `start` (inclusive) to `end` (exclusive); either side may be open."""

    start: datetime | None
    end: datetime | None

    def condition(self) -> dict[str, datetime] | None:
        """The MongoDB condition on a time field, or None for all of time."""
        bounds = {"$gte": self.start, "$lt": self.end}
        condition = {operator: value for operator, value in bounds.items() if value is not None}
        return condition or None


def _not_a_number(value: object) -> object:
    """Refuse what pydantic would read as Unix seconds: the API speaks ISO 8601 only."""
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?[0-9.eE+-]+\s*", value):
        raise ValueError(
            "expected an ISO 8601 date and time with an offset, e.g. 2025-03-01T12:00Z"
        )
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]


async def time_window(
    start: Annotated[
        Moment | None,
        Query(description="From this time on (inclusive); ISO 8601 with an offset."),
    ] = None,
    end: Annotated[
        Moment | None,
        Query(description="Up to this time (exclusive); ISO 8601 with an offset."),
    ] = None,
) -> TimeWindow:
    bounds: dict[str, datetime | None] = {"start": start, "end": end}
    for name, moment in bounds.items():
        if moment is not None:
            try:
                bounds[name] = moment.astimezone(UTC)
            except OverflowError:
                raise invalid(name, "the time is out of range once converted to UTC") from None
    window = TimeWindow(bounds["start"], bounds["end"])
    if window.start is not None and window.end is not None and window.start >= window.end:
        raise invalid("end", "must be later than start")
    return window


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An error as RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None
    """Validation errors only: one entry per offending field."""


REASONS = {
    400: "The cursor is not one this API gave out.",
    401: "No API key, or not a valid one.",
    403: "The API key lacks the scope this endpoint needs.",
    404: "Not found.",
    413: "The body is larger than this endpoint accepts (the detail says how much).",
    422: "A parameter is invalid; `errors` names each offending field.",
    429: "Over the API key's rate limit; retry after `Retry-After` seconds.",
    503: "Redis or MongoDB is away for now; retry after `Retry-After` seconds.",
}


def problem_responses(
    *statuses: int, model: type[BaseModel] = Problem, **descriptions: str
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for refusals, documented under problem+json.

    `descriptions` replace the usual reason of a status where an endpoint says more,
    keyed ``s<status>`` (``s404="No such rule."``).
    """
    schema = inline_schema(model)
    return {
        status: {
            "description": descriptions.get(f"s{status}", REASONS[status]),
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for status in statuses
    }


READ_REFUSALS = (400, 401, 403, 422, 429, 503)


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON schema with its definitions inlined: valid anywhere in a document."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


ADMIN_REFUSALS = problem_responses(401, 403, 422, 429)
"""What every admin endpoint may answer besides its own."""
MAX_EVENTS = 1000
"""Most entries (events, dead letters) one admin page holds."""
