"""A provider's model measured with the same yardstick as the offline one: the
development set's cases that a recording covers, run through the real graph against a
local OpenAI-compatible server replaying recorded tool-calling answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

import agent.toolset  # noqa: F401 - registers the tools
from agent.evaluation import Evaluation, load
from agent.evaluation.dataset import EvaluationSet
from agent.evaluation.runner import run
from agent.models import chat_model
from impressox.configs import models_config
from impressox.settings import Settings
from tests.agent.llm_servers import API_KEY, ReplayingOpenAIServer, Reply, serving

RECORDED = Path(__file__).parent / "recorded" / "openai_answers.json"

pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture
async def server() -> AsyncIterator[ReplayingOpenAIServer]:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))["answers"]
    replaying = ReplayingOpenAIServer(
        routes={said: answer["node"] for said, answer in recorded.items()},
        answers={
            said: Reply(answer.get("text", ""), answer.get("tool"), answer.get("args", {}))
            for said, answer in recorded.items()
        },
    )
    async with serving(replaying):
        yield replaying


def recorded_cases(server: ReplayingOpenAIServer) -> EvaluationSet:
    """The development cases whose every message the recording answers (a yes or a no
    to a confirmation is the graph's, not the model's)."""
    development = load("development")
    covered = tuple(
        case
        for case in development.cases
        if all(
            turn.says in server.answers or turn.expect.reply in ("confirmed", "cancelled")
            for turn in case.turns
        )
    )
    return development.model_copy(update={"cases": covered})


async def test_a_recorded_model_is_judged_like_the_offline_one(
    server: ReplayingOpenAIServer,
) -> None:
    settings = Settings(
        agent_model="openai-compatible:recorded",
        openai_compatible_url=server.url + "/v1",
        openai_compatible_api_key=SecretStr(API_KEY),
        agent_fallbacks=[],
        agent_max_retries=0,
    )

    def model_for(symbols: list[str]) -> BaseChatModel:
        return chat_model("openai-compatible:recorded", models_config(settings))

    subset = recorded_cases(server)
    result = Evaluation.of("development", await run(model_for, subset))

    assert subset.messages() == 14
    assert (result.right, len(result.judged)) == (12, 14)
    assert {miss.says for miss in result.misses} == {
        "btc and eth price",  # one call where two are expected
        "notify me when it drops below 50",  # a coin guessed where a question is expected
    }
    assert result.confusion == {
        ("get_price", "get_price (arguments)"): 1,
        ("clarify", "create_alert"): 1,
    }
    assert result.per_intent["confirmed"] == (1, 1)  # the graph ran the recorded deletion
    assert result.per_intent["greeting"] == (1, 1)  # an unmarked reply, judged by its shape
    asked = [request for request in server.requests if "tools" in request]
    assert all(request["model"] == "recorded" for request in asked)
