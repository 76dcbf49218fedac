"""Per-process Prometheus metrics of the runtime (cluster-wide figures: `monitoring`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

BATCH_SECONDS = Histogram(
    "impressox_handler_batch_seconds",
    "Time to handle and commit one batch, by handler.",
    ["handler"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ENTRIES = Counter(
    "impressox_handler_entries_total",
    "Entries this process finished, by handler and outcome"
    " (processed, duplicate, dead_lettered, failed_attempt).",
    ["handler", "outcome"],
)
