"""User intent as event-sourced aggregates (alert rules, conversations, watches, users).

Built on the `eventsourcing` library with a persistence module on Redis Streams. This
layer imports nothing of Redis, MongoDB or FastAPI: persistence plugs in from outside.
"""
