"""The FastAPI application: its routes, middleware and error handlers.

The composition root (`impressox.api_app.create_app`) builds what requests use in the
app's lifespan and hands it over as the `ApiContext`; this module only assembles the
app around that lifespan. Everything under ``/v1`` needs an API key (see `api.auth`);
/healthz, /readyz and the docs do not.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from importlib.metadata import version
from pathlib import Path

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api.guard import RequestGuard
from api.outages import install_outage_handlers
from api.problems import install_problem_handlers
from api.routes import (
    account,
    chain,
    conversations,
    event_types,
    feeds,
    health,
    ingest,
    knowledge,
    market,
    metrics,
    rules,
    scratch,
    users,
    websocket,
)
from api.routes.admin import aggregates as admin_aggregates
from api.routes.admin import dead_letters as admin_dead_letters
from api.routes.admin import projections as admin_projections
from api.routes.admin import streams as admin_streams
from api.web_page import install_web_page, locate_bundle

V1 = "/v1"

GC_THRESHOLDS = (50_000, 20, 100)
"""The collector's thresholds for the API process. Python's defaults (700, 10, 10)
collect every few requests and, with the process's long-lived objects frozen out of its
sight (`gc.freeze` after startup), make full collections frequent: at 500 GET/s those
pauses were the p99 (117-149 ms against 9 ms), and with a thousand WebSocket clients
the fan-out's (130-220 ms against 44 ms). Measured with bench.readside and bench.ws_fanout."""


def build_app(
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    *,
    max_body_bytes: int,
    web_dir: Path | None,
) -> FastAPI:
    """The API around `lifespan`, which must set ``app.state.context`` (an `ApiContext`)."""
    # The docs' scripts and styles are served by the app itself: an air-gapped box has no CDN.
    app = FastAPIOffline(
        title="Impressox",
        version=version("impressox"),
        summary="An event-sourced agent platform for crypto and DeFi traders.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    install_outage_handlers(app)
    app.add_middleware(RequestGuard, max_body_bytes=max_body_bytes)

    app.include_router(health.router)
    app.include_router(metrics.router)
    routed = (
        account, rules, conversations, market, feeds, chain, ingest, knowledge,
        admin_streams, admin_aggregates, admin_projections, admin_dead_letters,
        event_types, scratch, users, websocket,
    )  # fmt: skip
    for module in routed:
        app.include_router(module.router, prefix=V1)
    install_web_page(app, locate_bundle(web_dir))
    return app
