"""Our read models. Importing this package registers each of them in `PROJECTIONS`."""

from projections.readmodels import (
    alert_history,
    alert_rules,
    api_keys,
    candles,
    chain_events,
    conversations,
    messages,
    notifications,
    posts,
    price_coverage,
    prices,
    recent_alerts,
    users,
    wallet_activity,
    watches,
)

__all__ = [
    "alert_history",
    "alert_rules",
    "api_keys",
    "candles",
    "chain_events",
    "conversations",
    "messages",
    "notifications",
    "posts",
    "price_coverage",
    "prices",
    "recent_alerts",
    "users",
    "wallet_activity",
    "watches",
]
