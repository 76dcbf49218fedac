"""How well a model understands traders: the evaluation sets, run through the real graph.

`evaluate(model_for, names)` runs each named set (`dataset`: ``development``, the one
built against; ``heldout``, written first and never tuned on) through the graph
(`runner`) and reports, per set: the accuracy over its messages, per intent and per
style, the confusion between intents, and the misses. The tests run it on the offline
model (targets: 95% development, 90% held-out), `bench.agent` reports it, and
`impressox agent eval --model …` runs it unchanged on a provider's model.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from agent.evaluation.dataset import SETS, EvaluationSet, load
from agent.evaluation.runner import Judged, ModelFor, recorders, run

TARGETS = {"development": 0.95, "heldout": 0.90}

__all__ = ["SETS", "TARGETS", "Evaluation", "EvaluationSet", "evaluate", "load", "recorders"]


@dataclass(frozen=True)
class Evaluation:
    """One set's results."""

    name: str
    judged: tuple[Judged, ...]
    per_intent: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Intent expected -> (right, messages)."""
    per_style: dict[str, tuple[int, int]] = field(default_factory=dict)
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    """(intent expected, what was made instead) -> how often, for the misses."""

    @property
    def right(self) -> int:
        return sum(j.right for j in self.judged)

    @property
    def accuracy(self) -> float:
        return self.right / len(self.judged) if self.judged else 0.0

    @property
    def misses(self) -> list[Judged]:
        return [j for j in self.judged if not j.right]

    @classmethod
    def of(cls, name: str, judged: list[Judged]) -> Evaluation:
        intents: dict[str, list[int]] = {}
        styles: dict[str, list[int]] = {}
        confused: Counter[tuple[str, str]] = Counter()
        for judgement in judged:
            for key, table in ((judgement.expected.intent, intents), (judgement.style, styles)):
                counts = table.setdefault(key, [0, 0])
                counts[0] += judgement.right
                counts[1] += 1
            if not judgement.right:
                confused[(judgement.expected.intent, _made_label(judgement))] += 1
        return cls(
            name,
            tuple(judged),
            {k: (v[0], v[1]) for k, v in sorted(intents.items())},
            {k: (v[0], v[1]) for k, v in sorted(styles.items())},
            dict(confused.most_common()),
        )


def _made_label(judgement: Judged) -> str:
    """What was made, as an intent; the right tool with wrong arguments says so."""
    made = judgement.made.label
    return f"{made} (arguments)" if made == judgement.expected.intent else made


async def evaluate(model_for: ModelFor, names: tuple[str, ...] = SETS) -> dict[str, Evaluation]:
    """Each named set's results on the model `model_for` gives for its symbols."""
    return {name: Evaluation.of(name, await run(model_for, load(name))) for name in names}
