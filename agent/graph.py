"""The agent's graph: a router, one specialist node per area, and the tools they call.

::

    START -> router --route(node)--> market | alerts | research | account | chat
              |                         |  tool calls            ^
              | yes / no                v                        |
              +-> confirm | decline   tools ---- results --------+   (answer) -> END

- The **router** binds one tool, ``route(node)``, whose description lists which node
  owns which tool; it never runs a tool itself. It reads the new message after the
  exchange before it (an answer like "sol, above" means something only after its
  question; "it" names the coin of the message before).
- A **specialist** binds only its node's tools (`ToolRegistry.for_node`), so a model
  cannot create a rule from the research node.
- **tools** runs each call through `ToolRegistry.call` (validated; errors become results
  the model reads). A call that changes something is first recorded through the turn's
  `Journal`, if the invocation has one (see `agent.journal`). A tool marked
  ``confirm`` is not run: the call is kept as the turn's pending action and the user is
  asked, in words (``Delete alert 1, 'ETH/USDT below 3,000'? Yes / No``, the tool's
  `ask`); the next message's yes (`confirm` node) runs it, its no (`decline`) drops it.
  Whether a message says yes or no is decided here (`confirmation.answer`), the same
  for every model.
- Each specialist is told the time now, so "by Friday" has a date.
- Each node's model comes from `models(node)`, so a deployment may use a small model
  for routing and a larger one for research, with fallbacks (see the models module).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from agent import marks
from agent.confirmation import answer
from agent.memory import memory_message
from agent.tools import ToolOutcome, ToolRegistry

CHAT = "chat"
"""The node for messages no specialist owns: the model answers without tools."""
CONFIRM_NODE = "confirm"
DECLINE_NODE = "decline"
ROUTE_TOOL = "route"
"""The router's one tool: `route(node)`."""
DECLINED = "OK, I did not do it: nothing changed."
CONTEXT = "impressox_context"
JOURNAL = "impressox_journal"


class AgentState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    node: str
    pending: list[dict[str, Any]] | None
    """The calls that need the user's confirmation: [{"name", "args", "id"}]."""
    memory: list[str]
    """Facts the user told the agent that bear on this turn (`agent.memory`)."""


Models = Callable[[str], BaseChatModel]


def route_tool(registry: ToolRegistry) -> dict[str, Any]:
    owners = " ".join(
        f"{tool.name}={node}" for node in registry.nodes() for tool in registry.for_node(node)
    )
    return {
        "type": "function",
        "function": {
            "name": ROUTE_TOOL,
            "description": "Send the user's message to the specialist that can answer it.",
            "parameters": {
                "type": "object",
                "properties": {
                    "node": {
                        "type": "string",
                        "enum": [*registry.nodes(), CHAT],
                        "description": owners,
                    }
                },
                "required": ["node"],
            },
        },
    }


class _Nodes:
    """The graph's node functions, over its models and tools; what the tools act through
    comes with each invocation (`acting_for`), so one compiled graph serves every turn."""

    def __init__(self, models: Models, registry: ToolRegistry, persona: str) -> None:
        self.models = models
        self.registry = registry
        self.persona = SystemMessage(persona)
        self.specialists = registry.nodes()

    async def router(self, state: AgentState) -> dict[str, Any]:
        messages = state["messages"]
        last = messages[-1]
        said = answer(str(last.content)) if isinstance(last, HumanMessage) else None
        if state.get("pending") and said is not None:
            return {"node": CONFIRM_NODE if said == "yes" else DECLINE_NODE}
        model = self.models("router").bind_tools([route_tool(self.registry)])
        decision = await model.ainvoke([self.persona, *_last_exchange(messages)])
        calls = getattr(decision, "tool_calls", [])
        node = calls[0]["args"].get("node", CHAT) if calls else CHAT
        return {"node": node if node in self.specialists else CHAT, "pending": None}

    async def tools(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        last = state["messages"][-1]
        results: list[ToolMessage] = []
        pending = []
        for call in getattr(last, "tool_calls", []):
            tool = self.registry.get(call["name"])
            if tool is not None and tool.confirm:
                context = config.get("configurable", {}).get(CONTEXT)
                outcome = await self.registry.question(context, call["name"], call["args"])
                if outcome.ok:
                    pending.append({"name": call["name"], "args": call["args"], "id": call["id"]})
            else:
                outcome = await self._run(config, call)
            results.append(
                ToolMessage(content=outcome.content, tool_call_id=call["id"], name=call["name"])
            )
        return {"messages": results, "pending": pending or None}

    async def confirm(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        calls = state.get("pending") or []
        results = [
            ToolMessage(
                content=(await self._run(config, call)).content,
                tool_call_id=call["id"],
                name=call["name"],
            )
            for call in calls
        ]
        tool = self.registry.get(calls[0]["name"]) if calls else None
        return {
            "messages": [AIMessage(content="", tool_calls=calls), *results],
            "pending": None,
            "node": tool.nodes[0] if tool else CHAT,
        }

    async def decline(self, state: AgentState) -> dict[str, Any]:
        """The user said no to the pending calls: drop them, and say so."""
        reply = AIMessage(DECLINED, additional_kwargs={marks.INTENT: "cancelled"})
        return {"messages": [reply], "pending": None}

    async def _run(self, config: RunnableConfig, call: dict[str, Any]) -> ToolOutcome:
        """Run one call; a journal in the config first records a call that has an effect,
        and gives the context to run it with."""
        configurable = config.get("configurable", {})
        context = configurable.get(CONTEXT)
        journal: Journal | None = configurable.get(JOURNAL)
        tool = self.registry.get(call["name"])
        if journal is not None and tool is not None and tool.effect != "none":
            context = await journal.begin(str(call["id"]), call["name"], call["args"])
        return await self.registry.call(context, call["name"], call["args"])


class _Specialist:
    """One area's node: the model with only that area's tools bound."""

    def __init__(self, nodes: _Nodes, node: str) -> None:
        self.nodes = nodes
        self.node = node
        self.tools = [tool.schema() for tool in nodes.registry.for_node(node)]

    async def answer(self, state: AgentState) -> dict[str, Any]:
        model = self.nodes.models(self.node)
        bound = model.bind_tools(self.tools) if self.tools else model
        remembered = memory_message(state.get("memory") or [])
        now = SystemMessage(f"The time now: {datetime.now(UTC):%A %Y-%m-%d %H:%M} UTC.")
        reply = await bound.ainvoke([self.nodes.persona, now, *remembered, *state["messages"]])
        return {"messages": [reply]}


def _after_answer(state: AgentState) -> str:
    return "tools" if getattr(state["messages"][-1], "tool_calls", None) else END


def _chosen(state: AgentState) -> str:
    return state["node"]


def _last_exchange(messages: list[AnyMessage]) -> list[AnyMessage]:
    """The new message, after the exchange before it (the user's previous message and the
    agent's reply): "sol, above" or "alert me if it dumps" mean something only after
    them."""
    said = [
        m
        for m in messages[:-1]
        if isinstance(m, HumanMessage) or (isinstance(m, AIMessage) and not m.tool_calls)
    ]
    return [*said[-2:], messages[-1]]


class Journal(Protocol):
    """Where a turn records a call that has an effect before running it."""

    async def begin(self, call_id: str, name: str, arguments: dict[str, Any]) -> Any:
        """Record the call (`call_id` as the graph knows it); the context to run it with."""


def acting_for(context: Any, journal: Journal | None = None) -> RunnableConfig:
    """The invocation config of one turn: `context` is what its tools act through, and
    `journal` (if any) records each call with an effect before it runs."""
    return {"configurable": {CONTEXT: context, JOURNAL: journal}}


def build_agent(models: Models, registry: ToolRegistry, persona: str) -> Any:
    """The compiled graph; invoke it with `acting_for(context)` as its config."""
    nodes = _Nodes(models, registry, persona)
    graph: StateGraph[AgentState, None, AgentState, AgentState] = StateGraph(AgentState)
    graph.add_node("router", nodes.router)
    for node in [*nodes.specialists, CHAT]:
        graph.add_node(node, _Specialist(nodes, node).answer)
        graph.add_conditional_edges(node, _after_answer, {"tools": "tools", END: END})
    graph.add_node("tools", nodes.tools)
    graph.add_node(CONFIRM_NODE, nodes.confirm)
    graph.add_node(DECLINE_NODE, nodes.decline)
    graph.add_edge(DECLINE_NODE, END)
    graph.add_edge(START, "router")
    for source in ("router", "tools", CONFIRM_NODE):
        graph.add_conditional_edges(source, _chosen)
    return graph.compile()
