"""Node URLs as they may be shown: providers put their API key in the path or query
(``https://mainnet.example.net/v3/<key>``), so logs, messages and `impressox chain
status` show a node's scheme, host and port only. A light module: settings use it too.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def redact_rpc_url(url: str) -> str:
    """Scheme and host of a node's URL, and "/…" where a path or query was left out."""
    parts = urlsplit(url)
    tail = "/…" if parts.path.strip("/") or parts.query else ""
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a number: not shown
        port = ""
    return f"{parts.scheme}://{host}{port}{tail}"
