"""The agent's models: each provider through its own protocol (local servers), the
fallback chain, retries, the settings that choose them, the offline model's streaming,
and `impressox agent eval`."""

from __future__ import annotations

import asyncio
import gc
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable
from pydantic import SecretStr

import agent.toolset  # noqa: F401 - registers the tools
from agent.evaluation import recorders
from agent.graph import CHAT, build_agent
from agent.models import (
    AgentModels,
    ModelsFailedError,
    ModelsUnavailableError,
    chat_model,
    token_usage,
)
from agent.offline import HELP, MODEL_NAME, OfflineChatModel
from agent.specs import AGENT_NODES, InvalidModelSpecError, ModelSpec, parse_spec
from agent.tools import AGENT_TOOLS
from events.errors import ConfigurationError, DependencyUnavailableError
from impressox.configs import models_config
from impressox.settings import Settings
from tests.agent.llm_servers import (
    API_KEY,
    AnthropicServer,
    Fault,
    LLMServer,
    OllamaServer,
    OpenAIServer,
    Reply,
    serving,
)
from tests.impressox.cli_support import cli_env, run_cli

pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture(autouse=True, scope="module")
def _collect_abandoned_clients() -> Iterator[None]:
    """The providers' SDK clients (httpx pools inside ChatOllama, ChatAnthropic) are
    never closed by langchain: a worker keeps its models for its lifetime, but here a
    model outlives its test server. Their sockets are collected when the module ends
    (the last test's teardown, inside this module's filter), instead of warning in
    whichever test of another module runs next."""
    yield
    gc.collect()


GET_PRICE = {
    "type": "function",
    "function": {
        "name": "get_price",
        "description": "The latest price of a symbol.",
        "parameters": {
            "type": "object",
            "properties": {"symbol": {"type": "string"}},
            "required": ["symbol"],
        },
    },
}
NO_KEYS: dict[str, Any] = {
    "openai_api_key": None,
    "anthropic_api_key": None,
    "openai_compatible_url": None,
    "openai_compatible_api_key": None,
    "agent_node_models": {},
    "agent_fallbacks": [],
}


def settings(**overrides: Any) -> Settings:
    """Settings of these tests alone: no key or model from the environment."""
    return Settings(**{**NO_KEYS, "agent_max_retries": 0, **overrides})


def pointing_at(server: LLMServer) -> dict[str, Any]:
    """The settings that send each provider's requests to `server`."""
    if isinstance(server, OpenAIServer):
        return {"openai_api_key": SecretStr(API_KEY), "openai_base_url": server.url + "/v1"}
    if isinstance(server, AnthropicServer):
        return {"anthropic_api_key": SecretStr(API_KEY), "anthropic_base_url": server.url}
    return {"ollama_url": server.url}


def merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return total


async def streamed(model: Runnable[Any, Any], text: str) -> list[AIMessageChunk]:
    chunks = [chunk async for chunk in model.astream([HumanMessage(text)])]
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    return chunks


# -- what every provider must do ------------------------------------------------------------


class ProviderContract(ABC):
    spec: str

    @abstractmethod
    def serve(self) -> AbstractAsyncContextManager[LLMServer]:
        """A local server speaking the provider's protocol."""

    @pytest.fixture
    async def server(self) -> AsyncIterator[LLMServer]:
        async with self.serve() as server:
            yield server

    @pytest.fixture
    def model(self, server: LLMServer) -> BaseChatModel:
        return AgentModels(models_config(settings(agent_model=self.spec, **pointing_at(server))))(
            CHAT
        )

    def model_name(self) -> str:
        return parse_spec(self.spec).model

    async def test_a_tool_call_comes_back_with_its_arguments_parsed(
        self, server: LLMServer, model: BaseChatModel
    ) -> None:
        server.reply(Reply(tool="get_price", args={"symbol": "ETH/USDT"}))
        reply = await model.bind_tools([GET_PRICE]).ainvoke([HumanMessage("price of ETH")])
        assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
            ("get_price", {"symbol": "ETH/USDT"})
        ]
        assert reply.tool_calls[0]["id"]
        assert server.tool_names(server.requests[-1]) == ["get_price"]

    async def test_a_plain_answer_is_its_text(
        self, server: LLMServer, model: BaseChatModel
    ) -> None:
        server.reply(Reply("ETH trades at 3000 USDT."))
        reply = await model.ainvoke([HumanMessage("price of ETH")])
        assert reply.text == "ETH trades at 3000 USDT."
        assert not reply.tool_calls
        assert server.requests[-1]["model"] == self.model_name()

    async def test_a_stream_joins_to_the_answer(
        self, server: LLMServer, model: BaseChatModel
    ) -> None:
        server.reply(Reply("Bitcoin is up four percent today."))
        chunks = await streamed(model, "how is bitcoin doing")
        assert len([chunk for chunk in chunks if chunk.text]) == 6
        assert "".join(chunk.text for chunk in chunks) == "Bitcoin is up four percent today."
        assert server.requests[-1]["stream"] is True

    async def test_a_streamed_tool_call_is_whole_once_merged(
        self, server: LLMServer, model: BaseChatModel
    ) -> None:
        server.reply(Reply(tool="get_price", args={"symbol": "SOL/USDT"}))
        chunks = await streamed(model.bind_tools([GET_PRICE]), "sol")
        calls = merged(chunks).tool_calls
        assert [(c["name"], c["args"]) for c in calls] == [("get_price", {"symbol": "SOL/USDT"})]

    async def test_usage_and_model_come_back(self, server: LLMServer, model: BaseChatModel) -> None:
        reply = await model.ainvoke([HumanMessage("count these five words please")])
        usage = server.usages[-1]
        assert token_usage(reply) == {
            "model": self.model_name(),
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
        }
        assert usage.input_tokens == 5

    async def test_usage_and_model_come_back_from_a_stream(
        self, server: LLMServer, model: BaseChatModel
    ) -> None:
        chunks = await streamed(model, "count these five words please")
        usage = server.usages[-1]
        assert token_usage(merged(chunks)) == {
            "model": self.model_name(),
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
        }

    async def test_a_failed_request_is_retried(self, server: LLMServer) -> None:
        model = AgentModels(
            models_config(
                settings(agent_model=self.spec, agent_max_retries=1, **pointing_at(server))
            )
        )(CHAT)
        server.fail(Fault(status=503))
        server.reply(Reply("back again"))
        reply = await model.ainvoke([HumanMessage("hello")])
        assert reply.text == "back again"
        assert len(server.requests) == 2

    async def test_without_retries_a_failure_is_the_models(
        self, server: LLMServer, model: BaseChatModel
    ) -> None:
        server.fail(Fault(status=500))
        with pytest.raises(ModelsUnavailableError, match=self.spec):
            await model.ainvoke([HumanMessage("hello")])
        assert len(server.requests) == 1


class TestOpenAI(ProviderContract):
    spec = "openai:gpt-test"

    def serve(self) -> AbstractAsyncContextManager[LLMServer]:
        return serving(OpenAIServer())


class TestAnthropic(ProviderContract):
    spec = "anthropic:claude-test"

    def serve(self) -> AbstractAsyncContextManager[LLMServer]:
        return serving(AnthropicServer())


class TestOllama(ProviderContract):
    spec = "ollama:llama-test:8b"

    def serve(self) -> AbstractAsyncContextManager[LLMServer]:
        return serving(OllamaServer())


class TestOpenAICompatible(ProviderContract):
    """A vLLM, LM Studio or OpenRouter URL: OpenAI's protocol at a URL of its own."""

    spec = "openai-compatible:meta-llama/Llama-3.1-8B-Instruct"

    def serve(self) -> AbstractAsyncContextManager[LLMServer]:
        return serving(OpenAIServer())

    @pytest.fixture
    def model(self, server: LLMServer) -> BaseChatModel:
        return AgentModels(models_config(settings(agent_model=self.spec, **compatible(server))))(
            CHAT
        )

    async def test_a_failed_request_is_retried(self, server: LLMServer) -> None:
        model = chat_model(
            self.spec, models_config(settings(agent_max_retries=1, **compatible(server)))
        )
        server.fail(Fault(status=502))
        assert (await model.ainvoke([HumanMessage("hi")])).text == "You said: hi"
        assert len(server.requests) == 2


def compatible(server: LLMServer) -> dict[str, Any]:
    return {
        "openai_compatible_url": server.url + "/v1",
        "openai_compatible_api_key": SecretStr(API_KEY),
    }


# -- fallbacks ------------------------------------------------------------------------------


@asynccontextmanager
async def primary_and_fallback() -> AsyncIterator[tuple[OpenAIServer, OllamaServer]]:
    async with serving(OpenAIServer()) as primary, serving(OllamaServer()) as fallback:
        assert isinstance(primary, OpenAIServer)
        assert isinstance(fallback, OllamaServer)
        yield primary, fallback


def chained(primary: LLMServer, fallback: LLMServer, **overrides: Any) -> AgentModels:
    return AgentModels(
        models_config(
            settings(
                agent_model="openai:gpt-primary",
                agent_fallbacks=["ollama:llama-fallback", "offline"],
                **pointing_at(primary),
                **pointing_at(fallback),
                **overrides,
            )
        )
    )


async def test_a_failing_model_hands_over_to_the_fallback_which_is_recorded() -> None:
    async with primary_and_fallback() as (primary, fallback):
        model = chained(primary, fallback)(CHAT)
        primary.fail(Fault(status=500))
        fallback.reply(Reply(tool="get_price", args={"symbol": "BTC/USDT"}))
        reply = await model.bind_tools([GET_PRICE]).ainvoke([HumanMessage("price of BTC")])
    assert reply.tool_calls[0]["args"] == {"symbol": "BTC/USDT"}
    assert len(primary.requests) == 1
    assert token_usage(reply) == {
        "model": "llama-fallback",
        "input_tokens": fallback.usages[-1].input_tokens,
        "output_tokens": fallback.usages[-1].output_tokens,
    }


async def test_a_model_that_does_not_answer_in_time_hands_over_to_the_fallback() -> None:
    async with primary_and_fallback() as (primary, fallback):
        model = chained(primary, fallback, agent_timeout_s=0.5)(CHAT)
        primary.fail(Fault("hang"))
        fallback.reply(Reply("from the fallback"))
        reply = await model.ainvoke([HumanMessage("hello")])
    assert reply.text == "from the fallback"
    assert token_usage(reply)["model"] == "llama-fallback"


async def test_a_stream_falls_back_before_its_first_chunk() -> None:
    async with primary_and_fallback() as (primary, fallback):
        model = chained(primary, fallback)(CHAT)
        primary.fail(Fault(status=500))
        fallback.reply(Reply("streamed by the fallback"))
        chunks = await streamed(model, "hello")
    assert "".join(chunk.text for chunk in chunks) == "streamed by the fallback"
    assert token_usage(merged(chunks))["model"] == "llama-fallback"


async def test_a_blocking_call_falls_back_too() -> None:
    async with primary_and_fallback() as (primary, fallback):
        model = chained(primary, fallback)(CHAT)
        primary.fail(Fault(status=500))
        fallback.reply(Reply("answered without a loop"))
        reply = await asyncio.to_thread(model.invoke, [HumanMessage("hello")])
    assert reply.text == "answered without a loop"
    assert token_usage(reply)["model"] == "llama-fallback"


async def test_the_last_fallback_offline_answers_when_every_provider_fails() -> None:
    async with primary_and_fallback() as (primary, fallback):
        model = chained(primary, fallback)(CHAT)
        primary.fail(Fault(status=500))
        fallback.fail(Fault(status=500))
        reply = await model.ainvoke([HumanMessage("who are you?")])
    assert reply.text == HELP
    assert token_usage(reply)["model"] == MODEL_NAME


async def test_when_every_model_fails_the_error_names_each() -> None:
    async with primary_and_fallback() as (primary, fallback):
        models = AgentModels(
            models_config(
                settings(
                    agent_model="openai:gpt-primary",
                    agent_fallbacks=["ollama:llama-fallback"],
                    **pointing_at(primary),
                    **pointing_at(fallback),
                )
            )
        )
        primary.fail(Fault(status=500))
        fallback.fail(Fault(status=500))
        with pytest.raises(ModelsUnavailableError) as failed:
            await models(CHAT).ainvoke([HumanMessage("hello")])
    assert [str(spec) for spec, _ in failed.value.failures] == [
        "openai:gpt-primary",
        "ollama:llama-fallback",
    ]
    assert API_KEY not in str(failed.value)


async def test_a_model_refusing_the_request_fails_the_turn_for_good() -> None:
    async with serving(OpenAIServer()) as server:
        wrong_key = {**pointing_at(server), "openai_api_key": SecretStr("sk-wrong")}
        model = AgentModels(models_config(settings(agent_model="openai:gpt-test", **wrong_key)))(
            CHAT
        )
        with pytest.raises(
            ModelsFailedError, match=r"openai:gpt-test: \w*AuthenticationError 401"
        ) as e:
            await model.ainvoke([HumanMessage("hello")])
    assert not isinstance(e.value, DependencyUnavailableError)
    assert "sk-wrong" not in str(e.value)


# -- models per node ------------------------------------------------------------------------


async def test_a_node_may_have_its_own_model_and_nodes_share_built_models() -> None:
    async with serving(OllamaServer()) as server:
        models = AgentModels(
            models_config(
                settings(agent_node_models={"router": "ollama:small-router"}, **pointing_at(server))
            )
        )
        assert models.chain("router") == (ModelSpec("ollama", "small-router"),)
        assert models.chain("research") == (ModelSpec("offline", MODEL_NAME),)
        assert models("market") is models("chat")
        assert models("router") is not models("chat")
        await models("router").ainvoke([HumanMessage("route this")])
        assert [request["model"] for request in server.requests] == ["small-router"]


def test_the_configurable_nodes_are_the_graphs() -> None:
    assert set(AGENT_NODES) == {"router", CHAT, *AGENT_TOOLS.nodes()}


async def test_the_graph_streams_each_token_once_through_the_models() -> None:
    graph = build_agent(AgentModels(models_config(settings())), recorders(), "test")
    tokens: list[str] = []
    async for message, metadata in graph.astream(
        {"messages": [HumanMessage("write me a poem about the moon")]}, stream_mode="messages"
    ):
        if metadata["langgraph_node"] == CHAT:
            tokens.append(str(message.content))
    answer = await graph.ainvoke({"messages": [HumanMessage("write me a poem about the moon")]})
    assert len(tokens) > 10
    assert "".join(tokens) == answer["messages"][-1].content


# -- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"agent_model": "openai:gpt-4o-mini"}, "IMPRESSOX_OPENAI_API_KEY"),
        ({"agent_fallbacks": ["anthropic:claude-x"]}, "IMPRESSOX_ANTHROPIC_API_KEY"),
        ({"agent_node_models": {"router": "openai-compatible:m"}}, "OPENAI_COMPATIBLE_URL"),
    ],
)
def test_a_provider_without_its_key_stops_the_settings(
    overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        settings(**overrides)


def test_a_provider_without_its_key_stops_the_models_too() -> None:
    with pytest.raises(ConfigurationError, match="IMPRESSOX_ANTHROPIC_API_KEY"):
        chat_model("anthropic:claude-x", models_config(settings()))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"agent_model": "gpt-4o"}, "unknown provider 'gpt-4o'"),
        ({"agent_model": "openai:"}, "name the model"),
        ({"agent_model": "offline:gpt-4o"}, "the offline provider has one model"),
        ({"agent_fallbacks": ["mistral:large"]}, "unknown provider 'mistral'"),
        ({"agent_node_models": {"planner": "offline"}}, "unknown node 'planner'"),
        ({"agent_node_models": {"router": "ollama"}}, "name the model"),
    ],
)
def test_a_bad_spec_or_node_stops_the_settings(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings(**overrides)


def test_specs_read_provider_then_model() -> None:
    assert parse_spec("ollama:llama3.1:8b") == ModelSpec("ollama", "llama3.1:8b")
    assert parse_spec("offline") == ModelSpec("offline", MODEL_NAME)
    assert settings(agent_model="offline").agent_model == f"offline:{MODEL_NAME}"
    with pytest.raises(InvalidModelSpecError, match="provider one of offline, openai"):
        parse_spec("")


# -- the offline model streams ----------------------------------------------------------------


async def test_the_offline_model_streams_its_answer_a_word_at_a_time() -> None:
    chunks = await streamed(OfflineChatModel(), "who are you?")
    words = [chunk.text for chunk in chunks if chunk.text]
    assert len(words) == len(HELP.split())
    assert "".join(words) == HELP
    assert token_usage(merged(chunks)) == {
        "model": MODEL_NAME,
        "input_tokens": 3,
        "output_tokens": len(HELP.split()),
    }


async def test_the_offline_model_streams_a_tool_call_in_one_chunk() -> None:
    model = OfflineChatModel().bind_tools([GET_PRICE])
    chunks = await streamed(model, "price of ETH")
    with_calls = [chunk for chunk in chunks if chunk.tool_call_chunks]
    assert len(with_calls) == 1
    assert (
        merged(chunks).tool_calls
        == (await model.ainvoke([HumanMessage("price of ETH")])).tool_calls
    )


def test_the_offline_model_streams_without_an_event_loop_too() -> None:
    chunks: list[BaseMessage] = list(OfflineChatModel().stream([HumanMessage("who are you")]))
    assert "".join(chunk.text for chunk in chunks) == HELP


# -- the CLI --------------------------------------------------------------------------------


def cli_lines(tmp_path: Path, *args: str, timeout: float = 60, **env: str) -> tuple[int, str, str]:
    done = run_cli(cli_env(tmp_path, **env), *args, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.timeout(300)
def test_eval_prints_the_accuracy_per_set_and_intent_of_the_offline_model(tmp_path: Path) -> None:
    # Both sets, ~700 messages through the graph: 10 s alone, much more in a loaded suite.
    code, out, err = cli_lines(
        tmp_path, "agent", "eval", "--model", "offline", timeout=240, COLUMNS="200"
    )
    assert code == 0, err
    assert out.startswith(f"offline:{MODEL_NAME} on the development set: 100.0%")
    assert f"offline:{MODEL_NAME} on the heldout set: " in out
    assert "│ create_alert " in out  # per intent
    assert "│ slang " in out  # per style


def test_eval_refuses_an_unknown_set_in_one_line(tmp_path: Path) -> None:
    code, _, err = cli_lines(tmp_path, "agent", "eval", "--model", "offline", "--set", "test")
    assert code == 2
    assert err.strip().splitlines() == ["error: --set 'test': one of development, heldout"]


def test_eval_refuses_a_bad_spec_in_one_line(tmp_path: Path) -> None:
    code, _, err = cli_lines(tmp_path, "agent", "eval", "--model", "gpt-4o")
    assert code == 2
    assert err.strip().splitlines() == [
        "error: model 'gpt-4o': unknown provider 'gpt-4o'; write provider:model with"
        " provider one of offline, openai, anthropic, ollama, openai-compatible"
    ]


async def test_eval_lists_what_a_real_model_missed(tmp_path: Path) -> None:
    async with serving(OllamaServer()) as server:
        code, out, err = await asyncio.to_thread(
            cli_lines,
            tmp_path,
            "agent",
            "eval",
            "--model",
            "ollama:chatty",
            "--set",
            "development",
            IMPRESSOX_OLLAMA_URL=server.url,
            COLUMNS="200",
        )
    assert code == 0, err
    assert out.startswith("ollama:chatty on the development set: ")
    assert "confusion" in out
    assert "misses (development)" in out
    assert "price of ETH" in out
    assert "no tool call: You said: price of ETH" in out
