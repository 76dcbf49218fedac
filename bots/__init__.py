"""Chat bots: where Telegram and Discord users talk to the agent.

A bot is a producer: it records each message a linked user writes through the
Conversations application (as the API records a web message), and the agent answers
from the log. Replies go back through notify (`notify.replies`), not through
the bot, so they are retried, recorded and sent once like every other message. The
composition root (`impressox.bots`) builds what a bot uses and runs it.

- `telegram`: long-polls the Bot API (``impressox bots telegram``); its commands are
  `telegram_commands`.
- `discord_bot`: the Discord gateway (``impressox bots discord``); its slash commands
  are `discord_commands`.
- `commands`: a command as the chat message it stands for, and the bots' shared words.
- `accounts`: linking a chat identity to a user with a code, or giving it its own.
- `directory`: which user a chat belongs to (the users read model).
- `health`: each bot's health, published to Redis.
- `keys`: the Redis keys the bots keep (the update offset, hints, threads).
"""
