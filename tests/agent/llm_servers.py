"""Local servers speaking the model providers' chat protocols: OpenAI's
``/v1/chat/completions`` (JSON, and SSE with ``stream_options.include_usage``),
Anthropic's ``/v1/messages`` (JSON, and its SSE events) and Ollama's ``/api/chat``
(JSON, and NDJSON).

Each runs on 127.0.0.1 on a free port, in the test's event loop (aiohttp's server),
records every request body, and answers the next scripted `Reply` (else echoes the last
user message) in the provider's own shape, text or tool call, with usage counted in
words. A test scripts failures by queueing `Fault`s: the next requests get them, in
order, then the server answers normally again.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

API_KEY = "sk-test-llm-key"


@dataclass(frozen=True)
class Reply:
    """What the model says: `text`, or a call of `tool` with `args`."""

    text: str = ""
    tool: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """One scripted failure: an error status, or no answer at all (until the server
    stops)."""

    kind: Literal["status", "hang"] = "status"
    status: int = 500


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int


@dataclass
class LLMServer(ABC):
    """What the three fakes share: the request log, scripted replies and faults."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    replies: deque[Reply] = field(default_factory=deque)
    faults: deque[Fault] = field(default_factory=deque)
    usages: list[Usage] = field(default_factory=list)
    url: str = ""
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def reply(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def fail(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    @abstractmethod
    def app(self) -> web.Application: ...

    @abstractmethod
    def tool_names(self, body: dict[str, Any]) -> list[str]:
        """The names of the tools a request offered, as this protocol spells them."""

    async def _receive(self, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        """The request body, and the scripted fault's response if one is due."""
        body: dict[str, Any] = await request.json()
        self.requests.append(body)
        if not self.faults:
            return body, None
        fault = self.faults.popleft()
        if fault.kind == "hang":
            await self._release.wait()
        error = {"error": {"type": "server_error", "message": "scripted failure"}}
        return body, web.json_response(error, status=fault.status)

    def _answer(self, body: dict[str, Any]) -> tuple[Reply, Usage]:
        reply = self.replies.popleft() if self.replies else Reply(f"You said: {_last_user(body)}")
        said = reply.text + (json.dumps(reply.args) if reply.tool else "")
        usage = Usage(_words(body.get("system")) + _words(body["messages"]), len(said.split()))
        self.usages.append(usage)
        return reply, usage

    def call_id(self) -> str:
        return f"call_{next(self._ids)}"


@asynccontextmanager
async def serving(server: LLMServer) -> AsyncIterator[LLMServer]:
    app = server.app()
    app.on_response_prepare.append(_close_after)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield server
    finally:
        server._release.set()
        await runner.cleanup()


async def _close_after(request: web.Request, response: web.StreamResponse) -> None:
    """Answer with ``Connection: close``: no client keeps a pooled connection to a server
    that is gone when its test ends (an unclosed socket, found by the garbage collector
    in some later test)."""
    response.force_close()


def pieces(text: str) -> list[str]:
    """`text` a word at a time (with the whitespace after it), as providers stream."""
    return [piece for piece in re.split(r"(?<=\s)(?=\S)", text) if piece]


def _words(content: Any) -> int:
    """Whitespace-separated words in any message content (strings, blocks, lists)."""
    if isinstance(content, str):
        return len(content.split())
    if isinstance(content, list):
        return sum(_words(item) for item in content)
    if isinstance(content, dict):
        return _words(content.get("content")) + _words(content.get("text"))
    return 0


def _last_user(body: dict[str, Any]) -> str:
    for message in reversed(body["messages"]):
        if message["role"] == "user":
            content = message["content"]
            if isinstance(content, list):
                return " ".join(block.get("text", "") for block in content)
            return str(content)
    return ""


async def _sse(
    request: web.Request, events: Iterator[tuple[str | None, Any]]
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for event, data in events:
        head = f"event: {event}\n" if event else ""
        payload = data if isinstance(data, str) else json.dumps(data)
        await response.write(f"{head}data: {payload}\n\n".encode())
    await response.write_eof()
    return response


# -- OpenAI ---------------------------------------------------------------------------------


@dataclass
class OpenAIServer(LLMServer):
    """``POST /v1/chat/completions`` with a bearer key; SSE when ``stream`` is set."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        return app

    def tool_names(self, body: dict[str, Any]) -> list[str]:
        return [tool["function"]["name"] for tool in body.get("tools", [])]

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            error = {"error": {"message": "Incorrect API key provided", "type": "invalid_request"}}
            return web.json_response(error, status=401)
        body, failure = await self._receive(request)
        if failure is not None:
            return failure
        reply, usage = self._answer(body)
        usage_json = {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
        }
        head = {
            "id": f"chatcmpl-{len(self.requests)}",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_test",
        }
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
            if reply.tool:
                message["tool_calls"] = [self._tool_call(reply)]
            choice = {"index": 0, "message": message, "finish_reason": _finish(reply)}
            completion = {**head, "object": "chat.completion", "choices": [choice]}
            return web.json_response({**completion, "usage": usage_json})
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return await _sse(request, self._chunks(head, reply, usage_json, include_usage))

    def _tool_call(self, reply: Reply) -> dict[str, Any]:
        function = {"name": reply.tool, "arguments": json.dumps(reply.args)}
        return {"id": self.call_id(), "type": "function", "function": function}

    def _chunks(
        self, head: dict[str, Any], reply: Reply, usage: dict[str, int], include_usage: bool
    ) -> Iterator[tuple[str | None, Any]]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> tuple[None, Any]:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return None, {**head, "object": "chat.completion.chunk", "choices": [choice]}

        yield chunk({"role": "assistant", "content": ""})
        for piece in pieces(reply.text):
            yield chunk({"content": piece})
        if reply.tool:
            call = self._tool_call(reply)
            arguments = call["function"]["arguments"]
            start = {**call, "index": 0, "function": {"name": reply.tool, "arguments": ""}}
            yield chunk({"tool_calls": [start]})
            for half in (arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]):
                yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": half}}]})
        yield chunk({}, _finish(reply))
        if include_usage:
            yield None, {**head, "object": "chat.completion.chunk", "choices": [], "usage": usage}
        yield None, "[DONE]"


def _finish(reply: Reply) -> str:
    return "tool_calls" if reply.tool else "stop"


# -- Anthropic ------------------------------------------------------------------------------


@dataclass
class AnthropicServer(LLMServer):
    """``POST /v1/messages`` with the key (``x-api-key``, or a bearer token as recent SDKs
    send it) and ``anthropic-version``; its SSE events when ``stream`` is set."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        return app

    def tool_names(self, body: dict[str, Any]) -> list[str]:
        return [tool["name"] for tool in body.get("tools", [])]

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        keys = {request.headers.get("x-api-key"), request.headers.get("Authorization")}
        if not keys & {API_KEY, f"Bearer {API_KEY}"} or "anthropic-version" not in request.headers:
            error = {"type": "authentication_error", "message": "invalid x-api-key"}
            return web.json_response({"type": "error", "error": error}, status=401)
        body, failure = await self._receive(request)
        if failure is not None:
            return failure
        reply, usage = self._answer(body)
        blocks: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
        if reply.tool:
            call_id = "toolu_" + self.call_id()
            blocks.append(
                {"type": "tool_use", "id": call_id, "name": reply.tool, "input": reply.args}
            )
        message = {
            "id": f"msg_{len(self.requests)}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "stop_sequence": None,
        }
        stop = "tool_use" if reply.tool else "end_turn"
        if not body.get("stream"):
            counts = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
            return web.json_response(
                {**message, "content": blocks, "stop_reason": stop, "usage": counts}
            )
        return await _sse(request, _anthropic_events(message, blocks, stop, usage))


def _anthropic_events(
    message: dict[str, Any], blocks: list[dict[str, Any]], stop: str, usage: Usage
) -> Iterator[tuple[str | None, Any]]:
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": usage.input_tokens, "output_tokens": 1},
    }
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            opened: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in pieces(block["text"])]
        else:
            opened = {**block, "input": {}}
            arguments = json.dumps(block["input"])
            halves = (arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :])
            deltas = [{"type": "input_json_delta", "partial_json": half} for half in halves]
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opened},
        )
        for delta in deltas:
            yield (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {  # cumulative, input included, as the API reports it now
                "input_tokens": usage.input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": usage.output_tokens,
            },
        },
    )
    yield "message_stop", {"type": "message_stop"}


# -- Ollama ---------------------------------------------------------------------------------


@dataclass
class OllamaServer(LLMServer):
    """``POST /api/chat``: NDJSON lines unless ``stream`` is false (Ollama streams by
    default), the counts on the last (``done``) one."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/chat", self._chat)
        return app

    def tool_names(self, body: dict[str, Any]) -> list[str]:
        return [tool["function"]["name"] for tool in body.get("tools", [])]

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body, failure = await self._receive(request)
        if failure is not None:
            return failure
        reply, usage = self._answer(body)
        created = "2026-01-01T00:00:00.000000Z"
        tool_calls = (
            [{"function": {"name": reply.tool, "arguments": reply.args}}] if reply.tool else []
        )
        done = {
            "model": body["model"],
            "created_at": created,
            "done": True,
            "done_reason": "stop",
            "total_duration": 1000,
            "load_duration": 10,
            "prompt_eval_count": usage.input_tokens,
            "prompt_eval_duration": 100,
            "eval_count": usage.output_tokens,
            "eval_duration": 500,
        }
        if body.get("stream") is False:
            message = {"role": "assistant", "content": reply.text, "tool_calls": tool_calls}
            return web.json_response({**done, "message": message})
        lines = [
            {"model": body["model"], "created_at": created, "done": False, "message": part}
            for part in [{"role": "assistant", "content": piece} for piece in pieces(reply.text)]
            + (
                [{"role": "assistant", "content": "", "tool_calls": tool_calls}]
                if reply.tool
                else []
            )
        ]
        lines.append({**done, "message": {"role": "assistant", "content": ""}})
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        for line in lines:
            await response.write(json.dumps(line).encode() + b"\n")
        await response.write_eof()
        return response


@dataclass
class ReplayingOpenAIServer(OpenAIServer):
    """An OpenAI-compatible server that replays recorded answers, keyed by the request's
    last user message: the router's choice of node when the request offers the `route`
    tool, else the specialist's answer; after tool results, a short text. A message
    without a recording is echoed (text, no tool call)."""

    routes: dict[str, str] = field(default_factory=dict)
    answers: dict[str, Reply] = field(default_factory=dict)

    def _answer(self, body: dict[str, Any]) -> tuple[Reply, Usage]:
        said = _last_user(body)
        if "route" in self.tool_names(body):
            self.replies.append(Reply(tool="route", args={"node": self.routes.get(said, "chat")}))
        elif body["messages"][-1]["role"] == "tool":
            self.replies.append(Reply("Done."))
        elif said in self.answers:
            self.replies.append(self.answers[said])
        return super()._answer(body)
