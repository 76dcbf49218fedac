"""Every behaviour test runs against both engines: the indexed one and the reference."""

from __future__ import annotations

import pytest

from tests.rules.support import ENGINES, Evaluator


@pytest.fixture(params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest) -> Evaluator:
    return ENGINES[request.param]()
