"""Benchmarks of the event store and the handler runtime: `python -m bench.store --json`.

Each benchmark starts a private Redis (unless REDIS_URL is set), measures its figures and
the baselines they are judged against in the same run on the same server, and prints one
JSON object on stdout. They report numbers; they never pass or fail on them.
"""
