"""The composition root: settings, embedded servers, the supervisor and the CLI."""
