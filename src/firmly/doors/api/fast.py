"""The hottest read, `GET /v1/counterparties/{key}`, answered before FastAPI's routing.

An integrator's CRM asks for a counterparty's page on every screen it opens. The page itself costs about a
quarter of a millisecond; FastAPI's route matching, dependency solving and exception layers cost as much
again. Here the request meets the same token check (`Gate.admit`), the same query (in a worker thread, as
every database call from async code) and the same error answers (`errors.response_for`). The route in
`routes.py` stays: it documents the endpoint in the OpenAPI, and it serves the requests this does not take
(a `HEAD`, a trailing slash).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from firmly.domain.ports import Storage
from firmly.doors.api import errors
from firmly.doors.api.auth import READ, Gate
from firmly.doors.api.routes import counterparty_page
from firmly.service import settle

_PAGE = re.compile(r"/v1/counterparties/([^/]+)")
_ROUTE = SimpleNamespace(path="/v1/counterparties/{key}")  # what the metrics label the requests with


def _settled_page(store: Storage, key: str) -> Response:
    """The page, with every event the workspace acknowledged decided first (one small read when none waits)."""
    settle.settled(store)
    return counterparty_page(store, key)


class CounterpartyPage:
    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app, self.gate = app, gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _PAGE.fullmatch(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _ROUTE
        request = Request(scope)
        response: Response
        try:
            who = await self.gate.admit(request, READ)
            response = await run_in_threadpool(_settled_page, who.store, found.group(1))
        except Exception as exc:  # every failure as the API answers it: status, JSON body, no trace
            response = errors.response_for(request, exc)
        await response(scope, receive, send)
