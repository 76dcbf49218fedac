"""Operating and debugging by replay, one router per resource (all under ``/admin``,
every endpoint needing an ``admin`` key): streams and events, aggregates, read models,
dead letters."""
