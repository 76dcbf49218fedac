"""Recall: the facts a user told the agent that bear on what they say now.

Each turn, before the graph runs, `recall` picks the user's facts for the model's context
(the nodes add them as a system message, `memory_message`):

1. the facts nearest in meaning to the message, from the memory index (`memory_index`),
   kept only if the user still has them (the index follows the log a moment behind);
2. when the user has few facts (at most `SMALL_MEMORY`), also their `RECENT_FACTS` latest,
   so a short memory is always in view, whatever the message's words.

The facts themselves come from the Memory aggregate, which is always current; an index
that cannot be reached costs the semantic part only, never the turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog
from langchain_core.messages import BaseMessage, SystemMessage

from aggregates.memory import Fact
from events.errors import ImpressoxError

if TYPE_CHECKING:
    from agent.context import AgentContext

log = structlog.get_logger(__name__)

RECALL_HITS = 4
"""Facts the semantic search contributes: the few that bear on the message."""
RECENT_FACTS = 3
SMALL_MEMORY = 8
"""At most this many facts, and the latest are recalled whatever the message says."""
HEADER = "What you know about this user (they told you):"
BULLET = "- "
MIN_SCORE = 0.1
"""Cosine similarity below which a nearest fact is left out as unrelated: unrelated
short sentences score around 0 (±0.1 with feature hashing), one sharing the message's
subject ("ETH") above it."""


async def recall_facts(context: AgentContext, text: str, k: int = RECALL_HITS) -> list[Fact]:
    """The user's facts relevant to `text`: nearest first, then the latest (see above)."""
    facts = await asyncio.to_thread(context.services.memory.facts, context.user_id)
    if not facts:
        return []
    current = {fact.fact_id: fact for fact in facts}
    chosen: dict[str, Fact] = {}
    if context.knowledge is not None:
        try:
            index = await context.knowledge.memory_index()
            hits = await index.search(context.user_id, text, k)
        except ImpressoxError as error:  # Chroma or the embeddings are away: recent facts
            log.warning("memory index unavailable", error=str(error))
            hits = []
        for hit in hits:
            if hit.fact_id in current and hit.score >= MIN_SCORE:
                chosen[hit.fact_id] = current[hit.fact_id]
    if len(facts) <= SMALL_MEMORY:
        for fact in reversed(facts[-RECENT_FACTS:]):
            chosen.setdefault(fact.fact_id, fact)
    return list(chosen.values())


async def recall(context: AgentContext, text: str, k: int = RECALL_HITS) -> list[str]:
    """The recalled facts' texts, for the turn's `AgentState.memory`."""
    return [fact.text for fact in await recall_facts(context, text, k)]


def memory_message(memory: list[str]) -> list[SystemMessage]:
    """The system message that puts recalled facts before the model (none if none)."""
    if not memory:
        return []
    lines = "\n".join(f"{BULLET}{fact}" for fact in memory)
    return [SystemMessage(f"{HEADER}\n{lines}")]


def remembered_in(messages: Sequence[BaseMessage]) -> list[str]:
    """The facts a `memory_message` among `messages` holds (the offline model reads them)."""
    for message in messages:
        text = str(message.content)
        if isinstance(message, SystemMessage) and text.startswith(HEADER):
            return [line.removeprefix(BULLET) for line in text.splitlines()[1:]]
    return []
