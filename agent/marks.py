"""What a reply may carry beside its text (`AIMessage.additional_kwargs`), under keys
providers' clients ignore:

- `CLARIFICATION`: the request the reply asks the user to complete; the turn records it
  on the Conversation (`conversation.clarification_asked`) and gives it back with the
  reply in the next turn's history, where the model that asked reads it;
- `INTENT`: what the reply is when it calls no tool (greeting, thanks, help,
  unsupported, clarify, cancelled), said by the offline model and by the graph's own
  replies; the evaluation compares it.
"""

from __future__ import annotations

CLARIFICATION = "impressox_clarification"
INTENT = "impressox_intent"
