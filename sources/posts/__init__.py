"""Post sources: X API v2, RSS/Atom feeds and JSON-lines imports into the posts category."""
