"""Rulebooks: the versions stored, one with its source and contract appendix, upload with the problems shown
at their lines, and what-if: a changed rulebook replayed over the history, nothing stored."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.datastructures import UploadFile

from firmly import bootstrap
from firmly.domain.errors import Busy, InvalidInput, NotFound, Problem
from firmly.domain.ports import StoredRulebook
from firmly.domain.render import render_html
from firmly.domain.rulebook import Rulebook, parse_rulebook
from firmly.domain.vocabulary import Words
from firmly.doors.web import i18n
from firmly.doors.web.routes._common import (
    answer,
    body_of,
    busy,
    field,
    job_names,
    shown_when_stored,
    store_of,
    web,
)
from firmly.doors.web.security import ACT, ADMIN, Refused, check_form, signed_in
from firmly.service import rulebooks, what_if_jobs
from firmly.service.policy import as_rulebook

router = APIRouter()
MAX_BYTES = 1024 * 1024


def _versions(request: Request) -> list[StoredRulebook]:
    who = signed_in(request)
    return answer(lambda: rulebooks.stored(store_of(request, who)))


def _one(request: Request, book_id: str, version: str) -> StoredRulebook:
    for stored in _versions(request):
        if stored.id == book_id and stored.version == version:
            return stored
    raise Refused(404, i18n.gettext("No such rulebook version."))


@router.get("/rulebooks")
def listed(request: Request) -> HTMLResponse:
    versions = _versions(request)
    latest: dict[str, StoredRulebook] = {}
    for v in versions:
        latest[v.id] = v
    books = {v.id: as_rulebook(v) for v in latest.values()}
    words = Words(i18n.current(), i18n.translations(i18n.current()))
    about = {book_id: {"for": words.for_kinds(book.applies_to), "language": words.value("locale", book.locale)}
             for book_id, book in books.items()}
    return web(request).page(request, "rulebooks.html", nav="rulebooks", versions=versions[::-1], books=books,
                             about=about)


@router.get("/rulebooks/{book_id}/{version}")
def shown(request: Request, book_id: str, version: str, loaded: str = "", lang: str = "") -> HTMLResponse:
    stored = _one(request, book_id, version)
    book = as_rulebook(stored)
    lang = lang if lang in i18n.LOCALES else i18n.current()
    return web(request).page(request, "rulebook.html", nav="rulebooks", stored=stored, book=book, loaded=loaded,
                             appendix=Markup(body_of(render_html(book, lang, i18n.translations(lang)))),
                             appendix_lang=lang,
                             lines=_lines(stored.source, []))


@router.get("/rulebooks/{book_id}/{version}/appendix.{fmt}")
def appendix(request: Request, book_id: str, version: str, fmt: str, lang: str = "") -> Response:
    book = as_rulebook(_one(request, book_id, version))
    lang = lang if lang in i18n.LOCALES else book.locale
    html = render_html(book, lang, i18n.translations(lang))
    name = f"{book.id}-{book.version}-{lang}"
    if fmt == "html":
        return HTMLResponse(html, headers={"Content-Disposition": f'inline; filename="{name}.html"'})
    if fmt == "pdf":
        return Response(bootstrap.documents().html_to_pdf(html), media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})
    raise Refused(404, i18n.gettext("The appendix is available as HTML or PDF."))


@router.get("/rulebooks/upload")
def upload_page(request: Request) -> HTMLResponse:
    signed_in(request)
    return web(request).page(request, "rulebook_upload.html", nav="rulebooks", source="", lines=[], problems=[],
                             checked=None)


@router.post("/rulebooks/upload")
async def upload(request: Request) -> Response:
    """`check` validates (anyone may); `load` also stores a new version (admins)."""
    who = signed_in(request)
    form = await request.form()
    check_form(request, form)
    source, name = await _source(form)
    action = field(form, "action") or "check"
    if action == "load":
        signed_in(request, ADMIN)
    book, problems = await run_in_threadpool(_parse, source, name)
    if book is not None and action == "load":
        shown = await shown_when_stored(request, who, book)
        if not isinstance(shown, list):
            return shown
        problems = shown
    return web(request).page(request, "rulebook_upload.html", http_status=422 if problems else 200, nav="rulebooks",
                             source=source, lines=_lines(source, problems) if problems else [], problems=problems,
                             checked=book if not problems else None)


@router.get("/rulebooks/what-if")
def what_if_page(request: Request, start: str = "") -> HTMLResponse:
    versions = _versions(request)
    latest = {v.id: v for v in versions}
    source = latest[start].source if start in latest else ""
    return web(request).page(request, "what_if.html", nav="rulebooks", source=source, ids=sorted(latest),
                             start=start, result=None, problems=[], lines=[])


@router.post("/rulebooks/what-if")
async def what_if(request: Request) -> Response:
    who = signed_in(request, ACT)
    form = await request.form()
    check_form(request, form)
    source, name = await _source(form)
    book, problems = await run_in_threadpool(_parse, source, name)
    job = None
    if book is not None:
        store = store_of(request, who)
        try:
            job = answer(lambda: what_if_jobs.start(partial(bootstrap.store, web(request).url, store.workspace),
                                                    store.workspace, source, name))
        except Busy as exc:
            raise busy(exc) from None
    ids = sorted({v.id for v in await run_in_threadpool(lambda: _versions(request))})
    return web(request).page(request, "what_if.html", http_status=422 if problems else 200, nav="rulebooks",
                             source=source, ids=ids, start="", result=None, job=job,
                             names=await run_in_threadpool(job_names, request, who, job), problems=problems,
                             lines=_lines(source, problems) if problems else [])


ELSEWHERE = 30  # polls that may land on another server process before a job counts as gone


@router.get("/rulebooks/what-if/jobs/{job_id}")
def what_if_job(request: Request, job_id: str, tries: int = 0) -> HTMLResponse:
    """The job's progress (htmx polls it every second) or, once done, its result; the whole page when asked
    without htmx. A job lives in the process that started it: under `firmly serve --workers N` a poll that
    reaches another process is told to ask again, a few times, rather than that the job is gone."""
    who = signed_in(request, ACT)
    assert who.user is not None
    workspace = who.user.workspace
    try:
        job = what_if_jobs.get(workspace, job_id)
    except NotFound:
        if not request.headers.get("hx-request") or tries >= ELSEWHERE:
            raise Refused(404, i18n.gettext("This what-if is no longer known; run it again.")) from None
        return web(request).page(request, "what_if_job.html", job=None, job_id=job_id, tries=tries + 1)
    names = job_names(request, who, job)
    if request.headers.get("hx-request"):
        return web(request).page(request, "what_if_job.html", job=job, result=job.result, names=names)
    ids = sorted({v.id for v in _versions(request)})
    return web(request).page(request, "what_if.html", nav="rulebooks", source="", ids=ids, start="",
                             result=None, job=job, names=names, problems=[], lines=[])


async def _source(form: Any) -> tuple[str, str]:
    """The rulebook's text: an uploaded file if one was chosen, else the text box."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and not upload.filename:
        await upload.close()  # an empty file field still comes as a spooled file: closed, not left to the collector
    elif isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_BYTES + 1)
        await upload.close()  # its spooled file closed now, not left to the collector
        if len(raw) > MAX_BYTES:
            raise Refused(413, i18n.gettext("A rulebook is at most 1 MiB."))
        try:
            return raw.decode("utf-8"), upload.filename
        except UnicodeDecodeError:
            raise Refused(400, i18n.gettext("A rulebook is UTF-8 text.")) from None
    return field(form, "source").replace("\r\n", "\n"), "rulebook.yaml"


def _parse(source: str, name: str) -> tuple[Rulebook | None, list[Problem]]:
    if not source.strip():
        return None, [Problem(name, None, "rulebook", i18n.gettext("The rulebook is empty."))]
    try:
        return parse_rulebook(source, name), []
    except InvalidInput as exc:
        return None, exc.problems


def _lines(source: str, problems: list[Problem]) -> list[tuple[int, str, list[Problem]]]:
    """The source by line, each with the problems found on it."""
    at: dict[int, list[Problem]] = {}
    for p in problems:
        if p.line is not None:
            at.setdefault(p.line, []).append(p)
    return [(n, text, at.get(n, [])) for n, text in enumerate(source.split("\n"), start=1)]

