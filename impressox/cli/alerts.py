"""`impressox alerts watch`: your alerts as they fire, in the terminal.

A client of the API's WebSocket like any other (`/v1/ws`, topic ``alerts``, optionally
``prices:<symbol>``): it keeps each topic's last cursor and, when the connection drops
or the server sheds it as too slow, reconnects and resumes from there, so nothing is
missed and nothing shown twice.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Annotated, Any

import typer
import websockets
from rich.console import Console
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI

from impressox.cli.common import fail, run, settings_from
from impressox.endpoints import read_endpoints

app = typer.Typer(help="Alerts as they fire.", no_args_is_help=True)
console = Console(highlight=False)

KEY_ENV = "IMPRESSOX_API_KEY"
REFUSED = {4401: "the API refused the key", 4403: "the key lacks the user scope"}
RECONNECT_DELAY_S = 1.0
SEVERITY_STYLE = {"info": "cyan", "warning": "yellow", "critical": "bold red"}


@app.command()
def watch(
    ctx: typer.Context,
    key: Annotated[
        str | None, typer.Option("--key", help=f"A user API key (also {KEY_ENV}).")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="The API (default: the system running on the data dir)."),
    ] = None,
    prices: Annotated[
        list[str] | None,
        typer.Option("--prices", help="Also show this symbol's ticks (repeatable)."),
    ] = None,
) -> None:
    """Print your alerts (and, with --prices, ticks) as they arrive, until Ctrl-C."""
    token = key or os.environ.get(KEY_ENV)
    if not token:
        fail(f"give a user API key with --key or {KEY_ENV}")
    api_url = url or _running_api(ctx)
    topics = ["alerts", *(f"prices:{symbol.replace('-', '/')}" for symbol in prices or [])]
    try:
        run(_watch(_ws_url(api_url), token, topics))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def _running_api(ctx: typer.Context) -> str:
    running = read_endpoints(settings_from(ctx).run_dir)
    if running is None:
        fail("no system is running on this data directory: start it with `make run`, or --url")
    return running.api_url


def _ws_url(api_url: str) -> str:
    if api_url.startswith(("ws://", "wss://")):
        return api_url.rstrip("/") + "/v1/ws"
    if not api_url.startswith(("http://", "https://")):
        fail(f"--url must be an http(s):// or ws(s):// URL, not {api_url!r}")
    return "ws" + api_url.removeprefix("http").rstrip("/") + "/v1/ws"


async def _watch(url: str, token: str, topics: list[str]) -> None:
    cursors: dict[str, str | None] = dict.fromkeys(topics)
    console.print(f"[dim]watching {', '.join(topics)} at {url} (Ctrl-C to stop)[/dim]")
    while True:
        try:
            async with websockets.connect(url, open_timeout=10) as socket:
                await socket.send(json.dumps({"type": "auth", "key": token}))
                for topic, cursor in cursors.items():
                    message: dict[str, Any] = {"type": "subscribe", "topic": topic}
                    if cursor:
                        message["cursor"] = cursor
                    await socket.send(json.dumps(message))
                async for frame in socket:
                    _show(json.loads(frame), cursors)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            if code in REFUSED:
                fail(REFUSED[code])
            console.print("[dim]connection closed; resuming from the last cursor[/dim]")
        except (OSError, InvalidStatus, InvalidURI, TimeoutError) as error:
            if isinstance(error, InvalidURI):
                fail(f"invalid URL {url!r}")
            console.print(f"[dim]cannot reach the API ({error}); retrying[/dim]")
        await asyncio.sleep(RECONNECT_DELAY_S)


def _show(message: dict[str, Any], cursors: dict[str, str | None]) -> None:
    kind = message.get("type")
    if kind == "error":
        console.print(f"[red]error:[/red] {message.get('message', message)}")
        return
    if kind != "event":
        return
    cursors[message["topic"]] = message["cursor"]
    event = message["event"]
    payload = event.get("payload", {})
    when = event.get("occurred_at", "")[11:19]
    if event.get("type") == "price.tick":
        label = " (simulated)" if payload.get("simulated") else ""
        console.print(
            f"[dim]{when}[/dim] {payload['symbol']} {payload['price']:,.6g}"
            f" on {payload['venue']}{label}"
        )
    elif event.get("type") == "alert.triggered":
        style = SEVERITY_STYLE.get(payload.get("severity", ""), "")
        console.print(f"[dim]{when}[/dim] [{style}]ALERT[/{style}] {payload.get('message')}")
