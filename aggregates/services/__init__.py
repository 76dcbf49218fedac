"""Application services: the commands and queries the API, bots and agent call.

Each is an `eventsourcing` application over one kind of aggregate. Arguments are
validated here (an invalid command is refused naming the field, before any event);
a command that loses a race to another raises `ConcurrentUpdateError` (reload, retry).
The library is synchronous: call these from threads, never from the event loop.
"""
