"""A counterparty's own page, opened from the signed link in its messages: no login, its own standing only, and
one form (a request for leniency). A link that is broken, expired or revoked opens a plain page saying so."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from firmly import bootstrap
from firmly.domain.errors import FirmlyError
from firmly.domain.render import render_html
from firmly.domain.rulebook import Rulebook
from firmly.doors.web import i18n
from firmly.doors.web.routes._common import back, body_of, field, web
from firmly.doors.web.security import Refused, check_form, store, visitor
from firmly.service import ingest, invoices, own_page, wallclock
from firmly.service.ingest import IngestReport

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _said(why: str, wait: int) -> tuple[str, str]:
    """The title and the sentence of a refusal, in the current language."""
    if why == "busy":
        return i18n.gettext("Please wait a little"), i18n.ngettext(
            "Too many requests came from your address. Please try again in %(num)s second.",
            "Too many requests came from your address. Please try again in %(num)s seconds.", wait) % {"num": wait}
    title = i18n.gettext("This link does not work")
    if why == "expired":
        return title, i18n.gettext("The link has expired. The link in our latest message opens your page; or ask "
                                   "us for a new one.")
    if why == "revoked":
        return title, i18n.gettext("The link has been withdrawn. The link in our latest message opens your page; "
                                   "or ask us for a new one.")
    return title, i18n.gettext("The link is incomplete or has been changed. Please open it exactly as it came in "
                               "our message, or ask us for a new one.")


def _refused(request: Request, why: str, status: int = 403, wait: int = 0) -> HTMLResponse:
    """The plain page for a link that opens nothing, in both languages (the reader's is not known)."""
    visitor(request)
    first = i18n.current()
    texts = []
    for code in (first, *(c for c in i18n.LOCALES if c != first)):
        i18n.use(code)
        texts.append((code, *_said(why, wait)))
    i18n.use(first)
    response = web(request).page(request, "own_refused.html", http_status=status, texts=texts)
    response.headers.update(NO_STORE)
    if wait:
        response.headers["Retry-After"] = str(wait)
    return response


_APPENDICES: dict[tuple[str, str, str, str], Markup] = {}


def _appendix(workspace: str, book: Rulebook, lang: str) -> Markup:
    """The rulebook's appendix in `lang`, rendered once per workspace, version and language (a stored version
    never changes)."""
    key = (workspace, book.id, book.version, lang)
    found = _APPENDICES.get(key)
    if found is None:
        if len(_APPENDICES) > 256:
            _APPENDICES.clear()
        found = _APPENDICES[key] = Markup(body_of(render_html(book, lang, i18n.translations(lang))))
    return found


def _opened(request: Request, workspace: str, token: str) -> tuple[str, int] | HTMLResponse:
    """The counterparty's key and the wall clock, or the refusal to show."""
    now = wallclock.now()
    wait = own_page.take_turn(store(request), "view", _address(request), now, held_by=("broken",))
    if wait:
        return _refused(request, "busy", 429, wait)
    try:
        return own_page.holder(web(request).store(workspace), token, now), now
    except own_page.Refusal as refusal:
        own_page.take_turn(store(request), "broken", _address(request), now)
        return _refused(request, refusal.why)


def _show(request: Request, workspace: str, token: str, key: str, now: int, lang: str, status: int = 200,
          problem: str = "", values: dict[str, str] | None = None, sent: bool = False) -> HTMLResponse:
    try:
        found = own_page.page(web(request).store(workspace), key, now, lang if lang in i18n.LOCALES else None)
    except FirmlyError:  # the counterparty is gone: as a link that opens nothing
        return _refused(request, "broken")
    who = visitor(request)
    who.lang = found.lang
    i18n.use(found.lang)
    appendix = [_appendix(workspace, book, found.lang) for book in found.books]
    here = f"/my/{quote(workspace, safe='')}/{token}"
    response = web(request).page(request, "own.html", http_status=status, p=found, tz=found.timezone,
                                 appendix=appendix, action=here, problem=problem, values=values or {}, sent=sent,
                                 asks=own_page.ASKS, lang=found.lang)
    response.headers.update(NO_STORE)
    return response


@router.get("/my/{workspace}/{token}")
def own(request: Request, workspace: str, token: str, lang: str = "", sent: str = "") -> Response:
    opened = _opened(request, workspace, token)
    if isinstance(opened, HTMLResponse):
        return opened
    key, now = opened
    return _show(request, workspace, token, key, now, lang, sent=sent == "1")


@router.post("/my/{workspace}/{token}")
async def ask(request: Request, workspace: str, token: str) -> Response:
    posted = await request.form()
    check_form(request, posted)
    values = {name: field(posted, name) for name in ("about", "ask", "text", "lang")}

    def checked() -> tuple[own_page.Plea, str, str, int] | Response:
        opened = _opened(request, workspace, token)
        if isinstance(opened, HTMLResponse):
            return opened
        key, now = opened
        if own_page.take_turn(store(request), "plea", _address(request), now):
            return _show(request, workspace, token, key, now, values["lang"], 429, "many", values)
        found = own_page.page(web(request).store(workspace), key, now, values["lang"] or None)
        plea = own_page.checked(found, values["about"], values["ask"], values["text"])
        if isinstance(plea, str):
            return _show(request, workspace, token, key, now, values["lang"], 422, plea, values)
        return plea, key, found.lang, now

    result = await run_in_threadpool(checked)
    if isinstance(result, Response):
        return result
    plea, key, lang, now = result
    parsed = ingest.parsed("page", [own_page.envelope(key, lang, plea, now)])
    report: IngestReport = await asyncio.wrap_future(
        request.app.state.writer.submit(web(request).store(workspace), parsed))
    if report.rejected or report.stored != 1:
        return await run_in_threadpool(_show, request, workspace, token, key, now, lang, 422, "text", values)
    return back(f"/my/{quote(workspace, safe='')}/{token}?sent=1" + (f"&lang={lang}" if lang else ""))


@router.get("/my/{workspace}/{token}/invoice.pdf")
def invoice(request: Request, workspace: str, token: str) -> Response:
    """The counterparty's latest top-up invoice, as the business's own page of it offers it."""
    opened = _opened(request, workspace, token)
    if isinstance(opened, HTMLResponse):
        return opened
    key, _ = opened
    try:
        found = invoices.invoice(web(request).store(workspace), key)
    except FirmlyError:  # none issued, or the business's details are not complete: nothing to download
        raise Refused(404, i18n.gettext("There is no invoice to download.")) from None
    return Response(bootstrap.documents().invoice_pdf(found), media_type="application/pdf",
                    headers={**NO_STORE, "Content-Disposition": f'attachment; filename="invoice-{found.number}.pdf"'})
