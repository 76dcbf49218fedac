"""Live events over WebSocket (``/v1/ws``): prices, alerts, notifications, conversations.

`hub` reads each stream once per process and fans events out; `subscriber` sends one
client's topic (backlog after its cursor, then live events) through a bounded queue;
`topics` says what a topic reads and who may see it; `session` runs one connection;
`messages` and `cursor` are the protocol.
"""
