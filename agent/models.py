"""The agent's models: one langchain chat model per graph node, built from `ModelsConfig`.

A node's model is a chain of specs (`agent.specs`): the node's own
(``IMPRESSOX_AGENT_NODE_MODELS``) or the agent's (``IMPRESSOX_AGENT_MODEL``), then the
fallbacks (``IMPRESSOX_AGENT_FALLBACKS``). `FallbackChatModel` asks each in turn and
returns the first answer; it is itself a chat model, so the graph's
``models(node).bind_tools(tools).ainvoke(...)`` and ``astream`` work on it unchanged
(langchain's ``with_fallbacks`` returns a runnable without ``bind_tools``).

Each request has the ``agent_timeout_s`` timeout and is retried ``agent_max_retries``
times through timeouts, 429s and 5xx before the next model is tried: by the provider's
SDK (OpenAI, Anthropic, with their backoff and Retry-After), or here (Ollama's client
does not retry). A stream is retried or handed to the next model only before its first
chunk: words already shown cannot be taken back.

Which model answered is on the reply (`token_usage`), so a turn records the fallback's
name and usage, not the primary's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import structlog
from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManager,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.constants import TAG_NOSTREAM
from pydantic import ConfigDict, Field, SecretStr

from agent.offline import OfflineChatModel
from agent.offline.vocabulary import SymbolBook
from agent.specs import (
    OFFLINE,
    PROVIDER_VARIABLES,
    ModelsConfig,
    ModelSpec,
    parse_spec,
    require_credentials,
)
from events.backoff import Backoff
from events.errors import ConfigurationError, DependencyUnavailableError, InfrastructureError

log = structlog.get_logger(__name__)
T = TypeVar("T")

RETRY_BACKOFF = Backoff(0.5, 8.0, "full")
"""A retry made here: 0.5 s, doubling to 8 s, fully jittered (many turns may be retrying
the same provider at once)."""
UNKEYED = "unused"
"""The key sent to an OpenAI-compatible server configured without one: OpenAI's client
refuses to send none, and local servers (vLLM, LM Studio) ignore it."""


class ModelsFailedError(InfrastructureError):
    """Every model of a node's chain failed, one at least for good (a refused key, a
    rejected request): the turn would fail again, so its attempts count toward
    dead-lettering."""

    def __init__(self, failures: list[tuple[ModelSpec, BaseException]]) -> None:
        self.failures = failures
        tried = "; ".join(f"{spec}: {_describe(error)}" for spec, error in failures)
        super().__init__(f"no model answered ({tried})")


class ModelsUnavailableError(ModelsFailedError, DependencyUnavailableError):
    """Every model of a node's chain is down (timeouts, 5xx, 429s): an outage, so the
    turn waits for a model to be back instead of being dead-lettered."""


def _failed(failures: list[tuple[ModelSpec, BaseException]]) -> ModelsFailedError:
    if all(_transient(error) for _, error in failures):
        return ModelsUnavailableError(failures)
    return ModelsFailedError(failures)


@dataclass(frozen=True)
class Candidate:
    """One model of a chain, and how often to try it here (1 when its SDK retries)."""

    spec: ModelSpec
    model: BaseChatModel
    attempts: int = 1


def build_model(
    spec: ModelSpec, config: ModelsConfig, symbols: SymbolBook | None = None
) -> Candidate:
    """The langchain model of `spec`, with the configured timeout and retries. Provider
    packages are imported only when a spec names them. The offline model knows
    `symbols` (else the configured ones: what the agent worker adds those it sees
    priced since to)."""
    timeout, retries, access = config.timeout_s, config.max_retries, config.access
    if spec.provider == OFFLINE:
        return Candidate(spec, OfflineChatModel(symbols=symbols or SymbolBook(config.symbols)))
    if spec.provider == "ollama":
        from langchain_ollama import ChatOllama  # noqa: PLC0415

        ollama = ChatOllama(
            model=spec.model, base_url=access.ollama_url, client_kwargs={"timeout": timeout}
        )
        return Candidate(spec, ollama, attempts=1 + retries)
    if spec.provider == "anthropic":
        from langchain_anthropic import ChatAnthropic  # noqa: PLC0415

        anthropic = ChatAnthropic(
            model=spec.model,
            api_key=_required(access.anthropic_api_key, spec),
            base_url=access.anthropic_base_url,
            timeout=timeout,
            max_retries=retries,
        )
        return Candidate(spec, anthropic)
    from langchain_openai import ChatOpenAI  # noqa: PLC0415

    if spec.provider == "openai-compatible":
        key = access.openai_compatible_api_key or SecretStr(UNKEYED)
        url = _required(access.openai_compatible_url, spec)
    else:
        key, url = _required(access.openai_api_key, spec), access.openai_base_url
    openai = ChatOpenAI(
        model=spec.model,
        api_key=key,
        base_url=url,
        timeout=timeout,
        max_retries=retries,
        stream_usage=True,
    )
    return Candidate(spec, openai)


def _required(value: T | None, spec: ModelSpec) -> T:
    """The provider's key or URL (`require_credentials` refuses a spec without it at
    start; this is for a model built without that check)."""
    if value is None:
        raise ConfigurationError(f"model {spec} needs {PROVIDER_VARIABLES[spec.provider]}: set it")
    return value


class FallbackChatModel(BaseChatModel):
    """A chain of models answering as one: the first that answers wins.

    Tools bound here are bound on each model as it is asked (each provider formats them
    its own way). Each model runs as a child of this one, tagged ``nostream``, so a
    graph streamed with ``stream_mode="messages"`` shows each token once, from here.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    candidates: list[Candidate]
    tools: list[Any] = Field(default_factory=list)
    tool_options: dict[str, Any] = Field(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "impressox-fallbacks"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"models": [str(candidate.spec) for candidate in self.candidates]}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        options = {**kwargs, **({"tool_choice": tool_choice} if tool_choice else {})}
        return FallbackChatModel(
            candidates=self.candidates, tools=list(tools), tool_options=options
        )

    def _bound(self, candidate: Candidate) -> Runnable[LanguageModelInput, Any]:
        if not self.tools:
            return candidate.model
        return candidate.model.bind_tools(self.tools, **self.tool_options)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        config = _child_config(run_manager)
        tries = _Tries(self.candidates)
        for candidate in tries:
            try:
                reply = self._bound(candidate).invoke(messages, config, stop=stop, **kwargs)
            except Exception as error:
                time.sleep(tries.failed(error))
                continue
            return _result(reply, candidate.spec)
        raise _failed(tries.failures)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        config = _child_config(run_manager)
        tries = _Tries(self.candidates)
        for candidate in tries:
            try:
                reply = await self._bound(candidate).ainvoke(messages, config, stop=stop, **kwargs)
            except Exception as error:
                await asyncio.sleep(tries.failed(error))
                continue
            return _result(reply, candidate.spec)
        raise _failed(tries.failures)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        config = _child_config(run_manager)
        tries = _Tries(self.candidates)
        for candidate in tries:
            stream = self._bound(candidate).astream(messages, config, stop=stop, **kwargs)
            try:
                first = await anext(stream)
            except Exception as error:
                await asyncio.sleep(tries.failed(error))
                continue
            async for chunk in _named_stream(first, stream, candidate.spec):
                yield chunk
            return
        raise _failed(tries.failures)


class _Tries:
    """The tries of one request down a chain: each candidate as often as it may be tried,
    the next one once it failed for good. Iterating gives the candidate to try now."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self._candidates = candidates
        self._given_up = False
        self._current: tuple[Candidate, int] | None = None
        self.failures: list[tuple[ModelSpec, BaseException]] = []

    def __iter__(self) -> Iterator[Candidate]:
        for candidate in self._candidates:
            self._given_up = False
            for attempt in range(candidate.attempts):
                self._current = (candidate, attempt)
                yield candidate
                if self._given_up:
                    break

    def failed(self, error: BaseException) -> float:
        """The try now failed: how long to wait before the next (0 when the candidate is
        given up, and the next candidate comes at once)."""
        assert self._current is not None
        candidate, attempt = self._current
        delay = _retry_delay(candidate, attempt, error)
        if delay is None:
            self.failures.append((candidate.spec, error))
            self._given_up = True
            return 0.0
        return delay


def _child_config(
    run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None,
) -> RunnableConfig:
    """The config a candidate runs with: its run is a child of this model's (traced
    under it) and tagged ``nostream`` (its tokens reach a stream once, from here)."""
    if run_manager is None:
        return {"tags": [TAG_NOSTREAM]}
    children = CallbackManager(handlers=[], parent_run_id=run_manager.run_id)
    children.set_handlers(run_manager.inheritable_handlers)
    children.add_tags(run_manager.inheritable_tags)
    children.add_metadata(run_manager.inheritable_metadata)
    return {"callbacks": children, "tags": [TAG_NOSTREAM]}


def _retry_delay(candidate: Candidate, attempt: int, error: BaseException) -> float | None:
    """How long to wait before trying `candidate` again, or None to give it up."""
    if attempt + 1 < candidate.attempts and _transient(error):
        log.info(
            "model request failed; retrying", model=str(candidate.spec), error=_describe(error)
        )
        return RETRY_BACKOFF.delay_s(attempt + 1)  # `attempt` counts from 0
    log.warning("model failed", model=str(candidate.spec), error=_describe(error))
    return None


def _transient(error: BaseException) -> bool:
    """A timeout, a dropped connection, a 429 or a 5xx: worth the same request again."""
    if isinstance(error, httpx.TransportError | ConnectionError | TimeoutError):
        return True
    status = getattr(error, "status_code", None)
    return isinstance(status, int) and (status in (408, 409, 429) or status >= 500)


def _describe(error: BaseException) -> str:
    """The error's kind and status, never its text (which may quote a request)."""
    status = getattr(error, "status_code", None)
    return type(error).__name__ + (f" {status}" if isinstance(status, int) else "")


def _result(reply: Any, spec: ModelSpec) -> ChatResult:
    message = reply if isinstance(reply, AIMessage) else AIMessage(content=str(reply))
    if not message.response_metadata.get("model_name"):
        message.response_metadata = {**message.response_metadata, "model_name": spec.model}
    return ChatResult(generations=[ChatGeneration(message=message)])


async def _named_stream(
    first: Any, rest: AsyncIterator[Any], spec: ModelSpec
) -> AsyncIterator[ChatGenerationChunk]:
    """The candidate's chunks, the last naming the model if none did (metadata strings
    of chunks are concatenated when merged: the name must come once)."""
    named = False
    previous = _chunk(first)
    async for item in rest:
        named = named or bool(previous.response_metadata.get("model_name"))
        yield ChatGenerationChunk(message=previous)
        previous = _chunk(item)
    if not named and not previous.response_metadata.get("model_name"):
        previous.response_metadata = {**previous.response_metadata, "model_name": spec.model}
    yield ChatGenerationChunk(message=previous)


def _chunk(item: Any) -> AIMessageChunk:
    chunk = item if isinstance(item, AIMessageChunk) else AIMessageChunk(content=str(item))
    chunk.id = None  # this model's run names the message, as with any model
    return chunk


def token_usage(message: BaseMessage) -> dict[str, Any]:
    """What a reply cost and who wrote it: ``{"model", "input_tokens", "output_tokens"}``,
    the model being the one that answered (the provider's name for it), even after a
    fallback."""
    usage = getattr(message, "usage_metadata", None) or {}
    metadata = message.response_metadata
    return {
        "model": str(metadata.get("model_name") or metadata.get("model") or "unknown"),
        "input_tokens": int(usage.get("input_tokens", 0)),
        "output_tokens": int(usage.get("output_tokens", 0)),
    }


class AgentModels:
    """Each graph node's model, from the configuration; call it with a node's name.

    Built once per worker: every spec and its credentials are checked here (a bad
    setting stops the worker at start), models are built on first use and shared by the
    nodes with the same chain.
    """

    def __init__(self, config: ModelsConfig) -> None:
        self.config = config
        self.symbols = SymbolBook(config.symbols)
        """What the offline model knows of the market; the worker teaches it more."""
        self.default = self._chain(config.model)
        self.chains = {node: self._chain(spec) for node, spec in config.node_models.items()}
        specs = dict.fromkeys(spec for chain in self.all_chains() for spec in chain)
        require_credentials(specs, config.access)
        self._built: dict[tuple[ModelSpec, ...], BaseChatModel] = {}

    def _chain(self, spec: str) -> tuple[ModelSpec, ...]:
        specs = [parse_spec(spec), *(parse_spec(s) for s in self.config.fallbacks)]
        return tuple(dict.fromkeys(specs))  # a fallback equal to the model is tried once

    def all_chains(self) -> list[tuple[ModelSpec, ...]]:
        return [self.default, *self.chains.values()]

    def chain(self, node: str) -> tuple[ModelSpec, ...]:
        """The specs `node` tries, in order (a node not configured: the agent's)."""
        return self.chains.get(node, self.default)

    def __call__(self, node: str) -> BaseChatModel:
        chain = self.chain(node)
        if chain not in self._built:
            candidates = [build_model(spec, self.config, self.symbols) for spec in chain]
            alone = len(candidates) == 1 and chain[0].provider == OFFLINE
            # The offline model alone has nothing to fall back to and never fails in a
            # way a retry cures: unwrapped, a turn saves the wrapper's ~3 ms.
            self._built[chain] = (
                candidates[0].model if alone else FallbackChatModel(candidates=candidates)
            )
        return self._built[chain]


def chat_model(spec: str, config: ModelsConfig, symbols: SymbolBook | None = None) -> BaseChatModel:
    """One spec's model alone (no fallbacks), e.g. to evaluate it; the offline model
    knows `symbols` (else the configured ones)."""
    parsed = parse_spec(spec)
    require_credentials([parsed], config.access)
    return FallbackChatModel(candidates=[build_model(parsed, config, symbols)])
