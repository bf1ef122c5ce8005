"""The web UI mounted on the API's application: pages, static files, and how refusals look in a browser."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException

from firmly import bootstrap
from firmly.domain.ports import Storage
from firmly.doors.api import errors
from firmly.doors.web import i18n, lists
from firmly.doors.web.security import CSRF, LoginRequired, Refused, Visitor, set_cookie, visitor
from firmly.doors.web.terms import term
from firmly.doors.web.visitors import VisitorFirst
from firmly.service import settle, workspace

log = logging.getLogger("firmly.web")
HERE = Path(__file__).parent
# Third-party browser code, installed from the npm registry by scripts/_venv.sh (never copied into the repo).
VENDOR = {
    "htmx.min.js": HERE / "assets" / "node_modules" / "htmx.org" / "dist" / "htmx.min.js",
    "chart.umd.min.js": HERE / "assets" / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js",
}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class Web:
    """What the pages share: the database, the templates and each workspace's language and time zone."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(),
                               extensions=["jinja2.ext.i18n", "jinja2.ext.do"], trim_blocks=True, lstrip_blocks=True)
        self.env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
        self.env.filters.update(when=i18n.when, day=i18n.day, money=i18n.money, number=i18n.number, share=i18n.share,
                                tojson_data=_json_data, said=i18n.problem,
                                reason=i18n.reason)
        self.env.globals.update(LOCALES=i18n.LOCALES, term_of=term, vendor=lambda name: (VENDOR[name].is_file()),
                                url_with=lists.url_with)
        self._workspaces: dict[str, tuple[str, str]] = {}

    def store(self, ws: str) -> Storage:
        """The workspace's store, with what it acknowledged decided first (`settle.settled`) when called from a
        worker thread; never on the event loop, where a signed-in visitor's workspace was settled already, in
        a thread, before the page began (visitors.py)."""
        found = bootstrap.store(self.url, ws, settled=False)
        if ws and not _on_loop():
            settle.settled(found)
        return found

    def _workspace(self, ws: str) -> tuple[str, str]:
        found = self._workspaces.get(ws)
        if found is None:
            store = self.store(ws)
            with store.read():
                info = workspace.current(store)
            found = self._workspaces[ws] = (info.locale, info.timezone)
        return found

    def workspace_locale(self, ws: str) -> str:
        return self._workspace(ws)[0]

    def timezone(self, ws: str) -> str:
        return self._workspace(ws)[1]

    def page(self, request: Request, template: str, http_status: int = 200, **context: Any) -> HTMLResponse:
        who = visitor(request)
        tz = self.timezone(who.user.workspace) if who.user else "UTC"
        values = {"who": who, "lang": who.lang, "csrf": who.csrf, "tz": tz, "path": request.url.path,
                  "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                  "query": dict(request.query_params), **context}
        html = self.env.get_template(template).render(values)
        response = HTMLResponse(html, status_code=http_status)
        finish(request, response, who)
        return response


def _json_data(value: Any) -> Markup:
    """JSON for a <script type="application/json"> block: nothing in it can close the tag."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def finish(request: Request, response: Response, who: Visitor) -> None:
    """Headers every page carries; the pre-login CSRF cookie when one was just made."""
    response.headers.update(HEADERS)
    if who.user is not None:
        response.headers["Cache-Control"] = "no-store"  # a shared computer's back button shows no private page
    if who.new_csrf:
        set_cookie(request, response, CSRF, who.csrf, None)
        who.new_csrf = False


def wants_page(request: Request) -> bool:
    """A browser's request for a page (it accepts HTML), not a client of the API under /v1."""
    return (not request.url.path.startswith(("/v1/", "/vendor/", "/static/"))
            and "text/html" in request.headers.get("accept", ""))


def install(app: FastAPI, url: str) -> None:
    from firmly.doors.web.routes import router  # noqa: PLC0415 - the routes import this module's Web

    app.state.web = web = Web(url)
    app.add_middleware(VisitorFirst)  # the visitor's database reads in a thread, not on the event loop
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> Response:
        path = VENDOR.get(name)
        if path is None or not path.is_file():
            return Response("not installed: run scripts/_venv.sh (npm ci)", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        where = "/login" if request.method != "GET" or target == "/" else f"/login?next={quote(target, safe='/')}"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": where})
        return RedirectResponse(where, status_code=303)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        """A browser asking for a page gets a page (`/rulebooks/smile` without a version); the API keeps JSON."""
        if not wants_page(request):
            return errors.response_for(request, exc)
        message = i18n.gettext("There is no such page.") if exc.status_code == 404 else str(exc.detail)
        page = web.page(request, "error.html", http_status=exc.status_code, message=message)
        page.headers.update(getattr(exc, "headers", None) or {})
        return page

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        # in a worker thread: the visitor and the workspace's zone may not have been read yet (database calls)
        page = await run_in_threadpool(web.page, request, "error.html", http_status=exc.status, message=exc.message)
        page.headers.update(exc.headers or {})
        return page
