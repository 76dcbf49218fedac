"""The event store: the common envelope, payload types, and streams on Redis.

Everything that happens is an event in a Redis stream first; this package is how
events are shaped, named, appended and read back.
"""
