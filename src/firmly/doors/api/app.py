"""The ASGI application: routes, auth, errors, request ids and metrics wired together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

from firmly import bootstrap, config
from firmly.doors import web
from firmly.doors.api import errors, hooks, routes
from firmly.doors.api.auth import Gate, document_bearer
from firmly.doors.api.fast import CounterpartyPage
from firmly.doors.api.metrics import Metrics, Observe
from firmly.service import bulk
from firmly.service.group_commit import GroupCommit

log = logging.getLogger("firmly.api")

DESCRIPTION = """Send events from your booking system, CRM or bank core and read firmly's decisions back.

Every request but `/healthz` and `/metrics` carries `Authorization: Bearer TOKEN`; a token belongs to
one workspace and has a role: `admin`, `operator` (reviews, counterparties), `viewer` (read only) or
`ingest` (events only). Create one with `firmly token create --workspace W --role R`.
Errors are `{"error": {"code", "message", "field"}}`."""


def create_app(database_url: str | None = None, rate: float | None = None, long_lived: bool = False) -> FastAPI:
    """The API and the web UI. `long_lived`: the process serves until it is stopped, so what it has loaded when
    it starts is left out of the collector's full collections (`bulk.keep_loaded`)."""
    url = config.DATABASE_URL.value(database_url)
    engine = bootstrap.engine(url)
    writer = GroupCommit()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if long_lived:  # later full collections walk only what requests leave behind
            bulk.keep_loaded()
        yield
        writer.close()  # what was sent before the server stopped is stored

    app = FastAPI(title="firmly", version="1", description=DESCRIPTION, docs_url="/docs",
                  openapi_url="/openapi.json", redoc_url=None, lifespan=lifespan)
    app.state.writer = writer  # every event sent to this process goes through its one writer
    app.state.gate = gate = Gate(lambda ws: bootstrap.store(url, ws),
                                 float(config.RATE_LIMIT.value()) if rate is None else rate)
    app.state.metrics = metrics = Metrics(engine)
    errors.install(app)

    app.add_middleware(CounterpartyPage, gate=gate)  # inside Observe: request ids and latency apply to it too
    app.add_middleware(Observe, metrics=metrics)

    app.include_router(routes.router)
    app.include_router(hooks.router)  # connectors: /v1/hooks/{id} and /v1/connectors
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
            bootstrap.store(url, "").ping()
        except Exception as exc:
            return JSONResponse(errors.body("unavailable", f"the database is not reachable: {type(exc).__name__}"),
                                status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=Response)
    def prometheus() -> Response:
        return metrics.render()

    return app


def from_environment() -> FastAPI:
    """The app for `uvicorn --factory` (several worker processes): settings from the environment."""
    return create_app(long_lived=True)
