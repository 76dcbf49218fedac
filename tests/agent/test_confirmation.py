"""A yes or a no to a confirmation, as traders write them: decided by the graph for
every model (`confirmation.answer`), never by the offline model's reading."""

from __future__ import annotations

import pytest

from agent.confirmation import answer


@pytest.mark.parametrize(
    "text", ["yes", "Y", "yse", "Yesss!", "yep go ahead", "sure, do it", "yes please", "ok 👍"]
)
def test_assent_is_a_yes(text: str) -> None:
    assert answer(text) == "yes"


@pytest.mark.parametrize(
    "text", ["no", "nope", "nah cancel", "hmm no wait, keep them", "actually never mind", "❌"]
)
def test_a_refusal_is_a_no_even_beside_assent(text: str) -> None:
    assert answer(text) == "no"
    assert answer(f"yes... {text}") == "no"


@pytest.mark.parametrize(
    "text", ["delete alert 2", "note that I hold eth", "price of ETH", "what?", "", "   "]
)
def test_anything_else_is_neither(text: str) -> None:
    assert answer(text) is None
