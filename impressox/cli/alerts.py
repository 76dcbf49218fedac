"""`impressox alerts ...`: your rules and their health, a new rule, alerts as they fire.

Clients of the API like any other, with a user key. `watch` follows the WebSocket
(`/v1/ws`, topic ``alerts``, optionally ``prices:<symbol>``): it keeps each topic's last
cursor and, when the connection drops or the server sheds it as too slow, reconnects
and resumes from there, so nothing is missed and nothing shown twice. Beside the alerts
it shows every rule that cannot fire now (its health, `GET /v1/rules`), at the start
and whenever that changes, so a rule waiting in silence never goes unnoticed.

`create` refuses what the API refuses (a threshold no price reaches, a channel you do
not have) with exit code 2 and the API's one line naming the field.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import websockets
from rich.console import Console
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI

from events.errors import ImpressoxError, InfrastructureError
from impressox.cli.common import fail, run, settings_from
from impressox.endpoints import read_endpoints

app = typer.Typer(help="Your rules, their health, and alerts as they fire.", no_args_is_help=True)
console = Console(highlight=False)

KEY_ENV = "IMPRESSOX_API_KEY"
REFUSED = {4401: "the API refused the key", 4403: "the key lacks the user scope"}
RECONNECT_DELAY_S = 1.0
STOP_GRACE_S = 5.0
"""How long Ctrl-C waits for the watch to close its connection before leaving anyway."""
SEVERITY_STYLE = {"info": "cyan", "warning": "yellow", "critical": "bold red"}
HEALTH_EVERY_S = 30.0
HTTP_TIMEOUT_S = 10.0
PAGE = 500

KeyOption = Annotated[str | None, typer.Option("--key", help=f"A user API key (also {KEY_ENV}).")]
UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="The API (default: the system running on the data dir)."),
]


@app.command()
def watch(
    ctx: typer.Context,
    key: KeyOption = None,
    url: UrlOption = None,
    prices: Annotated[
        list[str] | None,
        typer.Option("--prices", help="Also show this symbol's ticks (repeatable)."),
    ] = None,
    health_every: Annotated[
        float,
        typer.Option(
            min=0, help="Seconds between looks at your rules' health (0: only at the start)."
        ),
    ] = HEALTH_EVERY_S,
) -> None:
    """Print your alerts (and, with --prices, ticks) as they arrive, until Ctrl-C; and
    every rule that cannot fire now, whenever that changes."""
    token = _token(key)
    api_url = _http_url(url or _running_api(ctx))
    topics = ["alerts", *(f"prices:{symbol.replace('-', '/')}" for symbol in prices or [])]
    run(_watch_all(api_url, token, topics, health_every))


@app.command("list")
def list_rules(
    ctx: typer.Context,
    key: KeyOption = None,
    url: UrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Your rules, newest first, each with its health: whether it can fire now."""
    token = _token(key)
    rules = run(_rules(_http_url(url or _running_api(ctx)), token))
    for rule in rules:
        if as_json:
            sys.stdout.write(json.dumps(rule) + "\n")
        else:
            console.print(_rule_line(rule))


@app.command()
def create(
    ctx: typer.Context,
    spec: Annotated[
        str,
        typer.Argument(help="The rule as POST /v1/rules takes it: JSON, or @FILE holding it."),
    ],
    key: KeyOption = None,
    url: UrlOption = None,
) -> None:
    """Create a rule; print its id and health as one JSON line (a refusal: exit 2)."""
    token = _token(key)
    body = _spec(spec)
    receipt = run(_create(_http_url(url or _running_api(ctx)), token, body))
    sys.stdout.write(json.dumps(receipt) + "\n")
    if receipt.get("health") != "armed":
        typer.echo(f"warning: {receipt.get('health')}: {receipt.get('health_detail')}", err=True)


def _token(key: str | None) -> str:
    token = key or os.environ.get(KEY_ENV)
    if not token:
        fail(f"give a user API key with --key or {KEY_ENV}")
    return token


def _spec(text: str) -> Any:
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as error:
            fail(f"cannot read {text[1:]}: {error.strerror}")
    try:
        return json.loads(text)
    except ValueError as error:
        fail(f"the rule is not JSON: {error}")


def _running_api(ctx: typer.Context) -> str:
    running = read_endpoints(settings_from(ctx).run_dir)
    if running is None:
        fail("no system is running on this data directory: start it with `make run`, or --url")
    return running.api_url


def _http_url(api_url: str) -> str:
    """The API's root as http(s)://, from an http(s):// or ws(s):// URL."""
    if api_url.startswith(("ws://", "wss://")):
        return "http" + api_url.removeprefix("ws").rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        fail(f"--url must be an http(s):// or ws(s):// URL, not {api_url!r}")
    return api_url.rstrip("/")


def _ws_url(http_url: str) -> str:
    return "ws" + http_url.removeprefix("http") + "/v1/ws"


class ApiRefusedError(ImpressoxError):
    """The API refused a request (4xx): the detail it gave, which names the field."""


async def _request(
    api_url: str, token: str, method: str, path: str, **options: Any
) -> httpx.Response:
    """One request to the API: its answer, `ApiRefusedError` (exit 2) with the detail
    of a refusal, or `InfrastructureError` (exit 1) when it cannot answer."""
    headers = {"Authorization": f"Bearer {token}"}
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request is noise here
    try:
        async with httpx.AsyncClient(base_url=api_url, timeout=HTTP_TIMEOUT_S) as client:
            response = await client.request(method, path, headers=headers, **options)
    except httpx.HTTPError as error:
        raise InfrastructureError(f"cannot reach the API at {api_url}: {error}") from None
    if response.is_success:
        return response
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    said = f"{detail} ({response.status_code})"
    if response.status_code >= 500:
        raise InfrastructureError(said)
    raise ApiRefusedError(said)


async def _rules(api_url: str, token: str) -> list[dict[str, Any]]:
    """Every rule of the key's user, page by page."""
    rules: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
        page = (await _request(api_url, token, "GET", "/v1/rules", params=params)).json()
        rules += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return rules


async def _create(api_url: str, token: str, spec: Any) -> dict[str, Any]:
    response = await _request(api_url, token, "POST", "/v1/rules", json=spec)
    receipt: dict[str, Any] = response.json()
    return receipt


def _label(rule: dict[str, Any]) -> str:
    spec = rule["spec"]
    subject = ", ".join(rule.get("subjects") or []) or spec["target"]["kind"]
    name = f"{spec['name']} " if spec.get("name") else ""
    return f"{name}({subject}, {spec['condition']['type']}) {rule['id']}"


def _rule_line(rule: dict[str, Any]) -> str:
    style = "green" if rule["health"] == "armed" else "yellow"
    return f"{_label(rule)}: [{style}]{rule['health']}[/{style}] [dim]{rule['health_detail']}[/dim]"


async def _watch_all(api_url: str, token: str, topics: list[str], health_every: float) -> None:
    """Watch until Ctrl-C (or SIGTERM), which ends it within `STOP_GRACE_S` whatever the
    connection is doing: a second one, or the grace running out, leaves at once."""
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    stopping = False

    def interrupted() -> None:
        nonlocal stopping
        if stopping:
            _leave_now(hung=False)
        stopping = True
        main.cancel()
        loop.call_later(STOP_GRACE_S, _leave_now, True)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupted)
    health = asyncio.create_task(_watch_health(api_url, token, health_every))
    try:
        await _watch(_ws_url(api_url), token, topics)
    except asyncio.CancelledError:
        if not stopping:
            raise
    finally:
        health.cancel()
        await asyncio.gather(health, return_exceptions=True)


def _leave_now(hung: bool) -> None:
    """Exit without waiting for the event loop: a second Ctrl-C, or a first one that did
    not end the watch in time (closing a socket to a server that stopped answering can
    hang; so can a library that swallows the cancellation). Then say where it hung, for
    a bug report."""
    if hung:
        print(f"alerts watch: did not stop within {STOP_GRACE_S:g} s; it was at:", file=sys.stderr)
        for task in asyncio.all_tasks():
            task.print_stack(file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


async def _watch_health(api_url: str, token: str, every_s: float) -> None:
    """Show each rule that cannot fire, at the start and whenever its health changes."""
    shown: dict[str, str] = {}
    while True:
        try:
            rules = await _rules(api_url, token)
        except ImpressoxError as error:
            again = f"; trying again in {every_s:g} s" if every_s else ""
            console.print(f"[dim]cannot read your rules' health ({error}){again}[/dim]")
            rules = []
        for rule in rules:
            was = shown.get(rule["id"])
            if rule["health"] != was and (was is not None or rule["health"] != "armed"):
                console.print(_rule_line(rule))
            shown[rule["id"]] = rule["health"]
        if not every_s:
            return
        await asyncio.sleep(every_s)


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
        _unless_cancelled()
        await asyncio.sleep(RECONNECT_DELAY_S)


def _unless_cancelled() -> None:
    """Stop if Ctrl-C cancelled us: closing the socket while cancelled can raise
    `ConnectionClosed` in place of the cancellation, which the loop would take for a
    dropped connection and resume, never to stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


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
