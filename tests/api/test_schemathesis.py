"""Every endpoint of the OpenAPI document, fuzzed with an admin key: no 5xx for any
input, and every response as the document says (schemathesis, a bounded run)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from events.envelope import Event, UnknownPayload
from events.store import EventStore
from handlers.dead_letter_ops import DeadLetters
from handlers.worker import Worker
from impressox.api_app import create_app
from impressox.settings import Settings
from tests.api.conftest import bearer
from tests.factories import ping
from tests.handlers.runtime_contract import declare
from tests.handlers.support import FAST, running
from tests.handlers.test_dead_letter_ops import Fussy, has_dead_letters
from tests.polling import wait_until

EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10}
CHECKS = [not_a_server_error, response_schema_conformance]
SETTINGS = {  # no rate limits: the run sends hundreds of requests with one key
    "rate_limit_per_minute": 0,
    "user_rate_limit_per_minute": 0,
    "anonymous_rate_limit_per_minute": 0,
}


@pytest.fixture
def api_schema(
    settings: Settings, redis_url: str, mongo_url: str
) -> Iterator[schemathesis.BaseSchema]:
    app = create_app(settings, redis_url=redis_url, mongo_url=mongo_url)
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        shutdown_lifespans()  # schemathesis keeps the app's lifespan open until told


def fuzz(
    operation: APIOperation[Any, Any, Any, Any], token: str, mode: GenerationMode
) -> str | None:
    """The first failure of `operation` in `mode`, or None."""
    strategy = operation.as_strategy(generation_mode=mode, headers=bearer(token))

    @hypothesis_settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Case[Any]) -> None:
        case.call_and_validate(checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # no invalid input exists (an endpoint without parameters)
        return None
    except (Exception, FailureGroup) as failure:  # every operation is tried, all reported
        return f"{mode} {operation.label}: {failure}"
    return None


@pytest.fixture
async def seeded(store: EventStore) -> EventStore:
    """Streams with events of a known type, of an unknown type, not ours; dead letters."""
    stream = (await store.append_batch("pings", [ping(n) for n in range(8)]))[0].stream
    await store.append("pings", Event(type="elsewhere.thing", key="x", payload=UnknownPayload()))
    await store.redis.xadd(stream, {"not": "ours"})
    await store.append_batch("pings", [ping(13, key=f"k{k}") for k in range(4)])
    letters = DeadLetters(store)
    async with running(Worker(declare("fussy", Fussy().handle), store, FAST)):
        await wait_until(lambda: has_dead_letters(letters, "fussy", 4))
    return store


@pytest.mark.slow
@pytest.mark.timeout(300)  # hundreds of generated requests; over a minute in a busy suite
async def test_no_server_errors_and_responses_match_the_schema(
    seeded: EventStore, api_schema: schemathesis.BaseSchema, admin: tuple[UUID, str]
) -> None:
    failures = []
    for result in sorted(api_schema.get_all_operations(), key=_deletes_the_key_last):
        if isinstance(result, Err):
            failures.append(f"the document is invalid: {result.err()}")
            continue
        operation = result.ok()
        for mode in EXAMPLES:
            failure = fuzz(operation, admin[1], mode)
            if failure is not None:
                failures.append(failure)
    assert not failures, "\n\n".join(failures)


SELF_DELETION = "DELETE /v1/me"
"""Deletes the fuzzing key's own user: every operation after it would only see 401."""


def _deletes_the_key_last(result: Any) -> bool:
    return not isinstance(result, Err) and result.ok().label == SELF_DELETION
