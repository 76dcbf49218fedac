"""The Redis keys the bots keep, built in one place.

::

    ix:bots:telegram:<bot id>:offset          next update id to ask for (string)
    ix:bots:telegram:<bot id>:hinted:<chat>   a linking hint was sent lately (string, EX)
    ix:bots:telegram:<bot id>:thread:<chat>   how many times /new was sent (string)
    ix:bots:discord:<bot id>:hinted:<user>    the same, per Discord user

Keyed by the bot's id (the number before the token's colon, as ``getMe`` says, or the
Discord bot user's id): update ids are per bot, so a new token starts from its own
offset.
"""

from __future__ import annotations

from events.names import StreamNames


class BotKeys:
    def __init__(self, names: StreamNames, platform: str, bot_id: int) -> None:
        self._base = f"{names.prefix}:bots:{platform}:{bot_id}"

    @property
    def offset(self) -> str:
        return f"{self._base}:offset"

    def hinted(self, chat_id: int) -> str:
        return f"{self._base}:hinted:{chat_id}"

    def thread(self, chat_id: int) -> str:
        return f"{self._base}:thread:{chat_id}"
