"""The agent's tools: plain functions with a pydantic argument model, registered per node.

A tool is declared once with `@agent_tool(nodes=..., description=...)` on an async
function taking the `AgentContext` and its arguments model. The model sees the tool's
JSON schema (generated from that model); a call is validated before it runs, and
anything that goes wrong (invalid arguments, a refused command, a missing read model)
comes back as a message the model reads, never as a crash of the turn.

A tool marked `confirm=True` does not run when the model calls it: the agent records a
pending action and asks the user, and only the user's explicit confirmation runs it. Its
`ask` function words the question from the call ("Delete alert 1, 'ETH/USDT below
3,000'?"), reading what the call would act on; without one the call is said in words.

A tool's `effect` says what running it twice would do, which is what a turn
interrupted by a crash must know (`agent.turns` records such a call before it
runs it):

- ``"none"``: it only reads; run it as often as you like.
- ``"repeatable"``: it changes something, keyed by its call: creating a rule derives
  the rule's id from the call's id, pausing a paused rule changes nothing. An
  interrupted call is run again, and the second run finds the first one's work.
- ``"once"``: it cannot be keyed (deleting "alert 3" by its number: after the first
  run, number 3 is another rule). An interrupted call is never run again; the user is
  told to check.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, get_type_hints

from pydantic import BaseModel, ValidationError

from events.errors import ImpressoxError

Args = TypeVar("Args", bound=BaseModel)


ToolFunction = Callable[[Any, Args], Awaitable[Any]]
Question = Callable[[Any, Args], Awaitable[str]]
Effect = Literal["none", "repeatable", "once"]


@dataclass(frozen=True)
class AgentTool(Generic[Args]):
    name: str
    description: str
    arguments: type[Args]
    function: ToolFunction[Args]
    nodes: tuple[str, ...]
    confirm: bool = False
    effect: Effect = "none"
    ask: Question[Args] | None = None

    def schema(self) -> dict[str, Any]:
        """The tool as an OpenAI-style function schema (what langchain binds)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.arguments.model_json_schema(),
            },
        }


@dataclass(frozen=True)
class ToolOutcome:
    """What a call came to: `content` is what the model reads (JSON text)."""

    ok: bool
    content: str
    value: Any = None


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, AgentTool[Any]] = {}

    def add(self, tool: AgentTool[Any]) -> None:
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is registered already")
        self._tools[tool.name] = tool

    def get(self, name: str) -> AgentTool[Any] | None:
        return self._tools.get(name)

    def for_node(self, node: str) -> list[AgentTool[Any]]:
        return [tool for tool in self._tools.values() if node in tool.nodes]

    def nodes(self) -> list[str]:
        return sorted({node for tool in self._tools.values() for node in tool.nodes})

    async def call(self, context: Any, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Validate and run one call; every failure becomes an outcome the model reads."""
        found = self._parsed(name, arguments)
        if isinstance(found, ToolOutcome):
            return found
        tool, parsed = found
        try:
            value = await tool.function(context, parsed)
        except (ImpressoxError, LookupError, ValueError) as error:
            return _failed(f"{name} failed: {error}", name, error)
        return ToolOutcome(True, json.dumps(value, default=str, ensure_ascii=False), value)

    async def question(self, context: Any, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """The question that asks the user to confirm a call (``{"question": ...}``), or
        why the call cannot run (then nothing is asked)."""
        found = self._parsed(name, arguments)
        if isinstance(found, ToolOutcome):
            return found
        tool, parsed = found
        if tool.ask is None:
            words = ", ".join(f"{key} {value}" for key, value in parsed.model_dump().items())
            text = f"{name.replace('_', ' ').capitalize()}{': ' + words if words else ''}?"
        else:
            try:
                text = await tool.ask(context, parsed)
            except (ImpressoxError, LookupError, ValueError) as error:
                return _failed(f"{name} failed: {error}", name, error)
        return ToolOutcome(True, json.dumps({"question": text}, ensure_ascii=False), text)

    def _parsed(
        self, name: str, arguments: dict[str, Any]
    ) -> tuple[AgentTool[Any], BaseModel] | ToolOutcome:
        """The tool and its validated arguments, or the outcome saying what is wrong."""
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(sorted(self._tools))
            return _failed(f"there is no tool {name!r} (tools: {known})")
        try:
            return tool, tool.arguments.model_validate(arguments)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item['loc']) or 'arguments'}: {item['msg']}"
                for item in error.errors(include_url=False)
            )
            return _failed(f"invalid arguments for {name}: {problems}")


def _failed(message: str, tool: str | None = None, error: Exception | None = None) -> ToolOutcome:
    """The failure as the model reads it (``error``, naming the tool); a tool's own
    error also carries its ``reason`` alone and any ``details`` the error has, which the
    offline answer words for the user without the tool's name."""
    failure: dict[str, Any] = {"error": message}
    if tool is not None and error is not None:
        failure |= {"tool": tool, "reason": str(error)}
        failure |= dict(getattr(error, "details", None) or {})
    return ToolOutcome(False, json.dumps(failure, default=str, ensure_ascii=False))


AGENT_TOOLS = ToolRegistry()
"""The process-wide registry the decorator writes to."""


@dataclass
class _Declaration(Generic[Args]):
    nodes: tuple[str, ...]
    description: str
    confirm: bool
    effect: Effect
    ask: Question[Args] | None = None
    registry: ToolRegistry = field(default=AGENT_TOOLS)

    def __call__(self, function: ToolFunction[Args]) -> ToolFunction[Args]:
        arguments = get_type_hints(function).get("arguments")
        if not (isinstance(arguments, type) and issubclass(arguments, BaseModel)):
            raise TypeError(
                f"tool {function.__name__}: its second parameter must be named `arguments`"
                " and annotated with a pydantic model"
            )
        self.registry.add(
            AgentTool(
                name=function.__name__,
                description=self.description,
                arguments=arguments,
                function=function,
                nodes=self.nodes,
                confirm=self.confirm,
                effect=self.effect,
                ask=self.ask,
            )
        )
        return function


def agent_tool(
    *nodes: str,
    description: str,
    confirm: bool = False,
    effect: Effect = "none",
    ask: Question[Any] | None = None,
    registry: ToolRegistry = AGENT_TOOLS,
) -> _Declaration[Any]:
    """Register an async tool ``(context, arguments: ArgsModel)`` for `nodes`; `ask`
    words the confirmation question of a `confirm` tool."""
    if not nodes:
        raise ValueError("a tool belongs to at least one node")
    return _Declaration(nodes, description, confirm, effect, ask, registry)
