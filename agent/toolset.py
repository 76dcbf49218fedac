"""Every tool of the agent, registered by importing this module (the graph binds them).

The tools act only through the system's own commands and read models, one module per
area: `market_tools` (the market node), `alert_tools` (alerts), `research_tools`
(research), `account_tools` (account: watches and memory), `chain_tools` (what wallets and
contracts did, wallet alerts).
"""

from __future__ import annotations

import agent.account_tools
import agent.alert_tools
import agent.chain_tools
import agent.market_tools
import agent.research_tools  # noqa: F401 - registering is what importing them does
