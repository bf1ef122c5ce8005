"""The ASGI application: routes, auth, errors, request ids and metrics wired together."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from firmly import bootstrap, config
from firmly.doors import web
from firmly.doors.api import errors, exceptions, hooks, progress, routes
from firmly.doors.api.auth import Gate, document_bearer
from firmly.doors.api.fast import CounterpartyPage
from firmly.doors.api.metrics import Metrics, Observe
from firmly.service import bulk
from firmly.service.group_commit import GroupCommit

log = logging.getLogger("firmly.api")
METRICS_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": routes.ErrorOut, "description": "no FIRMLY_METRICS_TOKEN given, or another one"},
    403: {"model": routes.ErrorOut, "description": "FIRMLY_METRICS_TOKEN is not set: /metrics is off"}}

DESCRIPTION = """Send events from your booking system, CRM or bank core and read firmly's decisions back.

Every request but `/healthz` carries `Authorization: Bearer TOKEN`; a token belongs to
one workspace and has a role: `admin`, `operator` (reviews, counterparties), `viewer` (read only) or
`ingest` (events only). Create one with `firmly token create --workspace W --role R`.
`/metrics` (every workspace's figures) takes the installation's own `FIRMLY_METRICS_TOKEN` instead, and is
off while that is not set.
`POST /v1/events` with `Prefer: respond-async` answers 202 once the events are stored; they are decided right
after, and every read decides what still waits first (`Location`, `GET /v1/workspace`: how far deciding has come).
Errors are `{"error": {"code", "message", "field"}}`."""


def create_app(database_url: str | None = None, rate: float | None = None, long_lived: bool = False,
               metrics_token: str | None = None) -> FastAPI:
    """The API and the web UI. `long_lived`: the process serves until it is stopped, so what it has loaded when
    it starts is left out of the collector's full collections (`bulk.keep_loaded`)."""
    url = config.DATABASE_URL.value(database_url)
    scrape_token = config.METRICS_TOKEN.value(metrics_token)
    deciding = bootstrap.serve_decides()  # else `firmly decide` processes decide (and every read settles first)
    writer = GroupCommit(backlog=bootstrap.backlog(),
                         opener=(lambda ws: bootstrap.store(url, ws, settled=False)) if deciding else None)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if long_lived:  # later full collections walk only what requests leave behind
            bulk.keep_loaded()
        yield
        writer.close()  # what was sent before the server stopped is stored

    app = FastAPI(title="firmly", version="1", description=DESCRIPTION, docs_url="/docs",
                  openapi_url="/openapi.json", redoc_url=None, lifespan=lifespan)
    app.state.writer = writer  # every event sent to this process goes through its one writer
    app.state.gate = gate = Gate(lambda ws: bootstrap.store(url, ws, settled=False),  # settled per route (auth)
                                 float(config.RATE_LIMIT.value()) if rate is None else rate)
    app.state.metrics = metrics = Metrics(lambda: bootstrap.store(url, "", settled=False).decision_counts())
    errors.install(app)

    app.add_middleware(CounterpartyPage, gate=gate)  # inside Observe: request ids and latency apply to it too
    app.add_middleware(Observe, metrics=metrics)

    app.include_router(routes.router)
    app.include_router(progress.router)  # /v1/workspace and /v1/events/through/{n}: how far deciding has come
    app.include_router(hooks.router)  # connectors: /v1/hooks/{id} and /v1/connectors
    app.include_router(exceptions.router)  # personal exceptions: /v1/counterparties/{key}/exceptions
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_bearer(build_schema())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    web.install(app, url)  # the pages and their static files; the UI logs in with sessions, not tokens

    @app.get("/healthz", tags=["operations"], summary="Is the database reachable?")
    def healthz() -> JSONResponse:
        try:
            bootstrap.store(url, "", settled=False).ping()
        except Exception as exc:
            return JSONResponse(errors.body("unavailable", f"the database is not reachable: {type(exc).__name__}"),
                                status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics (with FIRMLY_METRICS_TOKEN)",
             response_class=Response, responses=METRICS_REFUSALS)
    def prometheus(request: Request) -> Response:
        # The figures are labelled with every workspace's name: only the installation's operator may read them,
        # with a token of their own (a workspace's API token must not see the others)
        if not scrape_token:
            raise errors.ApiError(403, "forbidden", f"/metrics is off: set {config.METRICS_TOKEN.env} on the server "
                                  "and scrape with Authorization: Bearer <that token>")
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), scrape_token.encode()):
            raise errors.ApiError(401, "unauthorized", "/metrics needs Authorization: Bearer with the server's "
                                  f"{config.METRICS_TOKEN.env}", "Authorization",
                                  headers={"WWW-Authenticate": "Bearer"})
        return metrics.render()

    return app


def from_environment() -> FastAPI:
    """The app for `uvicorn --factory` (several worker processes): settings from the environment."""
    return create_app(long_lived=True)
