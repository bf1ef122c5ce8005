"""The signed-in visitor found in a worker thread before a page runs: the session, the user and their
workspace's language and zone are database reads, and a page's async code (a form being posted) would
otherwise make them on the event loop, where one slow database call stalls every request in flight. So is
deciding what the workspace acknowledged and has not decided yet (`Prefer: respond-async`): a page shows none
of its events without their decisions."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from firmly.doors.web import i18n
from firmly.doors.web.security import SESSION, Visitor, visitor

_NOT_PAGES = ("/v1/", "/static/", "/vendor/", "/healthz", "/metrics", "/openapi.json", "/docs")


def _find(request: Request) -> Visitor:
    who = visitor(request)  # kept on request.state: every later visitor() of this request reads it there
    if who.user is not None:
        request.app.state.web.timezone(who.user.workspace)  # the workspace's language and zone, cached
        request.app.state.web.store(who.user.workspace)  # in this thread: what the workspace acknowledged is decided
    return who


class VisitorFirst:
    """Plain ASGI middleware: only requests for pages that carry a session cookie take the thread hop (a plain
    `def` page would find its visitor in its own worker thread too, but which page answers is known only after
    routing, inside)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(_NOT_PAGES):
            request = Request(scope)
            if request.cookies.get(SESSION):
                try:
                    who = await run_in_threadpool(_find, request)
                except Exception:  # the page meets it again, and answers it as every failure
                    pass
                else:
                    i18n.use(who.lang)  # the thread's context is its own: the language is set here as well
        await self.app(scope, receive, send)
