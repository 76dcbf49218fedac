"""Chat bots: where Telegram (and, later, Discord) users talk to the agent.

A bot is a producer: it records each message a linked user writes through the
Conversations application (as the API records a web message), and the agent answers
from the log. Replies go back through notify (`notify.replies`), not through
the bot, so they are retried, recorded and sent once like every other message.

- `telegram`: long-polls the Bot API (``impressox bots telegram``).
- `directory`: which user a chat belongs to (the users read model).
- `keys`: the Redis keys the bots keep (the update offset).
"""
