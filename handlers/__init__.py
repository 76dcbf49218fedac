"""Consumer-group handlers and the runtime that runs them with exactly-once effects."""
