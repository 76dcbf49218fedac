"""Who the agent is: a persona from a YAML file, turned into its system prompt.

::

    name: Ixo
    bio: A market assistant for crypto traders.
    style: [Brief and concrete., Numbers with their units and sources.]
    topics: [prices, alerts, what people are saying]
    examples:
      - user: price of ETH
        agent: ETH/USDT is 3,012.40 on binance, as of 12:00:01 UTC.

A missing or invalid file stops the agent at start with the offending field named
(`load_persona`), never a silent fallback to the default.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from events.errors import ConfigurationError


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=500)
    agent: str = Field(min_length=1, max_length=2000)


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="Ixo", min_length=1, max_length=64)
    bio: str = Field(
        default="A market assistant for crypto and DeFi traders, inside Impressox.",
        max_length=2000,
    )
    style: list[str] = Field(
        default_factory=lambda: [
            "Brief and concrete.",
            "Give numbers with their units, venue and time.",
            "Say plainly what you did, and what you could not do.",
        ]
    )
    topics: list[str] = Field(
        default_factory=lambda: ["prices", "alerts", "what people are saying", "watches"]
    )
    examples: list[Example] = Field(default_factory=list)

    def prompt(self) -> str:
        """The system prompt every node's model reads."""
        lines = [f"You are {self.name}. {self.bio}", "Style:"]
        lines += [f"- {rule}" for rule in self.style]
        lines.append("You help with: " + ", ".join(self.topics) + ".")
        lines.append(
            "Act only through your tools; never invent a price, a rule or a post."
            " A tool's error is yours to explain to the user."
        )
        lines.append(
            "When a request misses something a tool needs (which coin; above or below a"
            " price; how much of a move), ask for exactly that instead of guessing. Say"
            " plainly what you cannot do (trade, give investment advice, quote other"
            " currencies) and what you can do instead. Symbols are BASE/QUOTE, in USDT"
            " unless the user names another quote."
        )
        lines.append(
            "When you create or change an alert rule, say how often it will fire and, when"
            " its health is not armed, what it waits for (the tool's health_detail): never"
            " let the user believe an alert will come that cannot."
        )
        for example in self.examples:
            lines += [f"User: {example.user}", f"{self.name}: {example.agent}"]
        return "\n".join(lines)


def load_persona(path: Path | None) -> Persona:
    """The persona in `path` (None: the default one)."""
    if path is None:
        return Persona()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Persona.model_validate(data)
    except OSError as error:
        raise ConfigurationError(f"invalid setting IMPRESSOX_AGENT_PERSONA: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigurationError(f"invalid setting IMPRESSOX_AGENT_PERSONA: {error}") from None
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "persona"
        raise ConfigurationError(
            f"invalid setting IMPRESSOX_AGENT_PERSONA: {path}: {where}: {first['msg']}"
        ) from None
