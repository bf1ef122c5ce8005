"""Connectors in the web UI (admins): the booking tools, CRMs and messengers a workspace hears, each with its URL,
its dead letters (re-run once the cause is fixed) and the events it stored; calendar and CSV exports uploaded."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from firmly import bootstrap
from firmly.domain.connectors import SOURCES, csvfile
from firmly.domain.errors import FirmlyError, InvalidInput
from firmly.doors.web import i18n
from firmly.doors.web.routes._common import answer, answer_async, back, field, store_of, web
from firmly.doors.web.security import ADMIN, Refused, check_form, now_us, signed_in
from firmly.service import connectors, workspace

router = APIRouter()
MAX_BYTES = 5 * 1024 * 1024
POSTED = [name for name, source in SOURCES.items() if not source.files]
MAPS = {"calcom": "calcom"}  # the CSV maps shipped with firmly


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


@router.get("/connectors")
def listed(request: Request) -> HTMLResponse:
    who = signed_in(request, ADMIN)
    store = store_of(request, who)
    rows = answer(lambda: [connectors.show(store, r.id) for r in connectors.listed(store)])
    return web(request).page(request, "connectors.html", nav="connectors", rows=rows, sources=POSTED,
                             titles={k: s.title for k, s in SOURCES.items()}, base=_base(request), problems=[],
                             imported=None)


@router.post("/connectors")
async def add(request: Request) -> Response:
    who = signed_in(request, ADMIN)
    form = await request.form()
    check_form(request, form)
    source = field(form, "source")
    options = {"key": field(form, "key") or "email", "attended_after": field(form, "attended_after") or None}
    store = store_of(request, who)
    row, made = await answer_async(lambda: connectors.add(store, source, field(form, "name") or None,
                                                          field(form, "secret") or None, options, now_us()))
    return _page(request, row.id, made)


@router.get("/connectors/{connector}")
def shown(request: Request, connector: str) -> HTMLResponse:
    signed_in(request, ADMIN)
    return _page(request, connector, None)


def _page(request: Request, connector: str, made: str | None) -> HTMLResponse:
    who = signed_in(request, ADMIN)
    store = store_of(request, who)
    one = answer(lambda: connectors.show(store, connector))
    letters = answer(lambda: connectors.failures(store, connector, every=True))
    events = answer(lambda: connectors.events(store, None, None, connector, 10_000))
    return web(request).page(request, "connector.html", nav="connectors", c=one, made=made, letters=letters,
                             events=events[-50:][::-1], total=len(events), base=_base(request),
                             title=SOURCES[one["source"]].title)


@router.post("/connectors/{connector}/rerun")
async def rerun(request: Request, connector: str) -> Response:
    who = signed_in(request, ADMIN)
    form = await request.form()
    check_form(request, form)
    store = store_of(request, who)
    await answer_async(lambda: connectors.rerun(store, connector, field(form, "failure") or None, now_us()))
    return back(f"/connectors/{connector}")


@router.post("/connectors/{connector}/remove")
async def remove(request: Request, connector: str) -> Response:
    who = signed_in(request, ADMIN)
    form = await request.form()
    check_form(request, form)
    store = store_of(request, who)
    await answer_async(lambda: connectors.remove(store, connector))
    return back("/connectors")


@router.post("/connectors/import")
async def upload(request: Request) -> Response:
    """An .ics export or iTIP message, or a CSV export with a shipped or uploaded column map."""
    who = signed_in(request, ADMIN)
    form = await request.form()
    check_form(request, form)
    store = store_of(request, who)
    upload = form.get("file")
    if isinstance(upload, UploadFile) and not upload.filename:
        await upload.close()  # an empty file field still comes as a spooled file
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Refused(400, i18n.gettext("Choose a file to import."))
    raw = await upload.read(MAX_BYTES + 1)
    await upload.close()  # its spooled file closed now, not left to the collector
    if len(raw) > MAX_BYTES:
        raise Refused(413, i18n.gettext("A file to import is at most 5 MiB."))
    name = upload.filename
    try:
        payload = await answer_async(lambda: _payload(store, name, raw, field(form, "map")))
    except InvalidInput as exc:
        payload, problems = None, exc.problems
    else:
        problems = []
    imported = None
    if payload is not None:
        kind = "ical" if name.lower().endswith((".ics", ".ical", ".ifb")) else "csv"
        _, done = await answer_async(lambda: connectors.import_files(store, kind, None, [(name, payload)], now_us()))
        imported = done[0]
    rows = answer(lambda: [connectors.show(store, r.id) for r in connectors.listed(store)])
    failed = imported is not None and imported.receipt.failure is not None
    return web(request).page(request, "connectors.html", http_status=422 if problems or failed else 200,
                             nav="connectors", rows=rows, sources=POSTED,
                             titles={k: s.title for k, s in SOURCES.items()}, base=_base(request), problems=problems,
                             imported=imported)


def _payload(store: Any, name: str, raw: bytes, shipped: str) -> dict[str, Any]:
    if name.lower().endswith((".ics", ".ical", ".ifb")):
        with store.read():
            zone = workspace.current(store).timezone
        return bootstrap.read_calendar(raw, name, zone)
    if shipped not in MAPS:
        raise FirmlyError(i18n.gettext("Choose the column map of the CSV export."))
    spec = connectors.csv_map(MAPS[shipped])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FirmlyError(i18n.gettext("A CSV export is UTF-8 text.")) from None
    return csvfile.payload(name, text, spec)
