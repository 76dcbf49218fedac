"""What an agent worker process binds: every tool of every node, without a test having
imported the tool modules itself (the in-process tests import them, which once hid a
worker that knew no market or alert tool and declined "price of ETH")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import json
import agent.turns  # what the agent handler's factory imports to build a worker
from agent.tools import AGENT_TOOLS
nodes = AGENT_TOOLS.nodes()
print(json.dumps([tool.name for node in nodes for tool in AGENT_TOOLS.for_node(node)]))
"""


def test_an_agent_worker_registers_every_tool_it_routes_to() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=REPO, check=True
    )
    names = set(json.loads(result.stdout))
    wanted = {"get_price", "create_alert", "list_alerts", "pause_alert", "search_posts"}
    wanted |= {"watch_wallet", "remember"}
    assert wanted <= names, wanted - names
