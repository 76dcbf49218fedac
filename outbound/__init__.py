"""Outbound calls to URLs users give us (webhooks, watched feeds): connections go only
where the destination policy (`aggregates.destinations`) allows, checked as they open."""
