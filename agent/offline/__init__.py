"""The offline model: a deterministic tool-calling chat model that understands traders.

It is the embedded default (`make run`, the tests, wherever no provider key is set), so
it is what every new user meets first. The package reads a message in steps, each its
own module:

- `normalise`: tokens, shorthand and filler, typos, phrases;
- `vocabulary` and `coins`: the words and coins it knows (the configured symbols);
- `quantities`: numbers with ``k``/``m``, separators and currency signs; durations and
  relative times;
- `reading`: what a message mentions; `intents`: what it asks for; `frames` and
  `alert_frames`: the slots of each request; `understanding`: the decision;
- `clarification`: the question asked when a slot is missing, answered next turn;
- `replies`: what it says without a tool (greetings, help, what it cannot do);
- `model`: the langchain chat model around it all.
"""

from agent.offline.model import MODEL_NAME, OfflineChatModel
from agent.offline.replies import HELP

__all__ = ["HELP", "MODEL_NAME", "OfflineChatModel"]
