"""Recording what happened by hand: one form per event type an operator sees happen (an incident, a request,
work, a payment, a message, a review, a counterparty's details), and the upload of an event file. Both go
through the API's own validation and writer (`ingest.parsed`, `app.state.writer`)."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from firmly.domain import limits
from firmly.domain.errors import FirmlyError
from firmly.domain.events import KINDS, SEVERITIES
from firmly.domain.money import MoneyError, parse_amount
from firmly.doors.web import i18n
from firmly.doors.web.routes._common import answer, back, field, local_time, store_of, web
from firmly.doors.web.security import ACT, Refused, check_form, signed_in
from firmly.service import ingest, listing, recording
from firmly.service.ingest import IngestReport, Parsed

router = APIRouter()
MAX_FILE = 20 * 1024 * 1024  # an event file uploaded from a browser; bigger histories go through the CLI or API


@dataclass(frozen=True, slots=True)
class Input:
    name: str
    kind: str  # text, textarea, number, money, select, flag, prices
    required: bool = False
    choices: tuple[str, ...] = ()
    longest: int = limits.REFERENCE  # the catalogue's limit, so the browser stops a text before the door must


FORMS: dict[str, tuple[Input, ...]] = {
    "incident.reported": (Input("severity", "select", True, SEVERITIES), Input("category", "text"),
                          Input("description", "textarea", longest=limits.TEXT), Input("appointment", "text"),
                          Input("reported_by", "text")),
    "request.received": (Input("channel", "text"), Input("topic", "text", longest=limits.TEXT),
                         Input("effort_minutes", "number"), Input("request", "text")),
    "work.logged": (Input("minutes", "number", True), Input("in_tariff", "flag"), Input("request", "text"),
                    Input("by", "text")),
    "payment.received": (Input("amount", "money", True), Input("invoice", "text")),
    "message.received": (Input("text", "textarea", True, longest=limits.TEXT), Input("channel", "text"),
                         Input("lang", "select", False, ("ru", "en"))),
    "review.received": (Input("rating", "select", True, ("5", "4", "3", "2", "1")),
                        Input("text", "textarea", longest=limits.TEXT), Input("author", "text"),
                        Input("appointment", "text"), Input("publish", "flag")),
    "counterparty.upserted": (Input("kind", "select", False, KINDS), Input("name", "text", longest=limits.TEXT),
                              Input("tier", "text", longest=limits.TIER),
                              Input("email", "text"), Input("phone", "text"),
                              Input("locale", "select", False, ("ru", "en")),
                              Input("prices", "prices", longest=limits.TEXT)),
}
assert set(FORMS) == set(recording.BY_HAND)


def _local_now(tz: str) -> str:
    return datetime.now(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def _keys(request: Request) -> list[tuple[str, str]]:
    """Every counterparty's key with its name, for the counterparty box to offer as one types."""
    who = signed_in(request)
    return [(r.key, r.name) for r in answer(lambda: listing.scan(store_of(request, who))).rows]


@router.get("/record")
def choose(request: Request, key: str = "") -> HTMLResponse:
    signed_in(request, ACT)
    return web(request).page(request, "record.html", nav="record", forms=FORMS, kind=None, key=key)


@router.get("/record/{kind}")
def form(request: Request, kind: str, key: str = "", recorded: str = "", decisions: str = "") -> HTMLResponse:
    who = signed_in(request, ACT)
    if kind not in FORMS:
        raise Refused(404, i18n.gettext("No such form."))
    assert who.user is not None
    values = {"counterparty": key, "occurred_at": _local_now(web(request).timezone(who.user.workspace))}
    return web(request).page(request, "record.html", nav="record", forms=FORMS, kind=kind, inputs=FORMS[kind],
                             values=values, errors={}, keys=_keys(request), key=key, recorded=recorded,
                             decisions=decisions)


@router.post("/record/{kind}")
async def record(request: Request, kind: str) -> Response:
    who = signed_in(request, ACT)
    if kind not in FORMS:
        raise Refused(404, i18n.gettext("No such form."))
    posted = await request.form()
    check_form(request, posted)
    assert who.user is not None
    tz = web(request).timezone(who.user.workspace)
    values = {name: field(posted, name) for name in ("counterparty", "occurred_at", *(i.name for i in FORMS[kind]))}
    errors, data = _data(FORMS[kind], values)
    key = values["counterparty"]
    if not key:
        errors["counterparty"] = i18n.gettext("Required.")
    at = local_time(values["occurred_at"], tz)
    if at is None:
        errors["occurred_at"] = i18n.gettext("A date and time, like 2026-03-01 10:00.")
    if not errors and at is not None:
        envelope = recording.envelope(kind, key, at, data)
        parsed = ingest.parsed("form", [envelope])
        _, _, item = parsed[0]
        if isinstance(item, ingest.Rejection):
            errors[_field_of(item.field)] = _words(item)
        else:
            report = await _write(request, who.user.workspace, parsed)
            if report.rejected:
                errors[_field_of(report.rejected[0].field)] = _words(report.rejected[0])
            else:
                return back(f"/record/{kind}?key={quote(key, safe='')}&recorded={quote(envelope['id'], safe='')}"
                            f"&decisions={report.decisions}")
    keys = await run_in_threadpool(_keys, request)
    return web(request).page(request, "record.html", http_status=422, nav="record", forms=FORMS, kind=kind,
                             inputs=FORMS[kind], values=values, errors=errors, keys=keys, key=key, recorded="",
                             decisions="")


def _words(refused: ingest.Rejection) -> str:
    """A refusal the form's own checks could not foresee, in the reader's language where it is a known one; the
    validator's own words (which name the limit) otherwise."""
    if refused.field == "occurred_at" and "in the future" in refused.message:
        return i18n.gettext("This is ahead of now; record what has already happened.")
    if "characters" in refused.message:
        return i18n.gettext("Too long: %(reason)s") % {"reason": refused.reason(i18n.gettext)}
    return refused.reason(i18n.gettext)


def _field_of(name: str) -> str:
    """The form's field a refusal names: `data.amount` is the amount box; the envelope's own fields as they are."""
    return name.removeprefix("data.").split(".")[0].split("[")[0]


def _data(inputs: tuple[Input, ...], values: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """The event's data from the form's text, and what is wrong with it by field, in the reader's language."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    for i in inputs:
        text = values.get(i.name, "")
        if i.kind == "flag":
            data[i.name] = text == "1"
            continue
        if not text:
            if i.required:
                errors[i.name] = i18n.gettext("Required.")
            continue
        if i.choices and text not in i.choices:
            errors[i.name] = i18n.gettext("Pick one of the choices.")
        elif i.kind == "number" or i.name == "rating":
            if not text.isdigit():
                errors[i.name] = i18n.gettext("A whole number, like 30.")
                continue
            data[i.name] = int(text)
        elif i.kind == "money":
            amount = _amount(text)
            if amount is None:
                errors[i.name] = i18n.gettext("An amount like 1500.00.")
                continue
            data[i.name] = amount
        elif i.kind == "prices":
            prices, problem = _prices(text)
            if problem:
                errors[i.name] = problem
                continue
            data[i.name] = prices
        else:
            data[i.name] = text
    return errors, data


def _amount(text: str) -> str | None:
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        amount = parse_amount(cleaned)
    except MoneyError:
        return None
    return f"{amount:.2f}" if amount >= 0 else None


def _prices(text: str) -> tuple[dict[str, str], str]:
    """A special price list written one per line as `code = price`."""
    prices: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        code, sep, price = line.partition("=")
        amount = _amount(price.strip()) if sep else None
        if not code.strip() or amount is None:
            return {}, i18n.gettext("Line %(n)s: write a code, “=” and the price, like consultation = "
                                    "120.00.") % {"n": n}
        prices[code.strip()] = amount
    return prices, ""


async def _write(request: Request, workspace: str, parsed: list[Parsed]) -> IngestReport:
    """Through the application's one writer, as the API's events are (so both never write at once)."""
    store = web(request).store(workspace)
    report: IngestReport = await asyncio.wrap_future(request.app.state.writer.submit(store, parsed))
    return report


@router.get("/events/upload")
def upload_page(request: Request) -> HTMLResponse:
    signed_in(request, ACT)
    return web(request).page(request, "events_upload.html", nav="record", report=None, name="")


@router.post("/events/upload")
async def upload(request: Request) -> Response:
    """A .jsonl or .csv file: every good line stored, every bad one named with its line, field and reason."""
    who = signed_in(request, ACT)
    posted = await request.form()
    check_form(request, posted)
    assert who.user is not None
    sent = posted.get("file")
    if not isinstance(sent, UploadFile) or not sent.filename:
        await posted.close()
        return web(request).page(request, "events_upload.html", http_status=422, nav="record", report=None, name="",
                                 error=i18n.gettext("Choose a .jsonl or .csv file."))
    name = Path(sent.filename).name or "events.jsonl"
    raw = await sent.read(MAX_FILE + 1)
    await posted.close()  # the spooled file closed now, not left to the collector
    if len(raw) > MAX_FILE:
        raise Refused(413, i18n.gettext("A file uploaded here is at most 20 MiB; send bigger ones with "
                                        "`firmly ingest` or the API."))
    try:
        parsed = await run_in_threadpool(_read, name, raw)
    except FirmlyError:
        return web(request).page(request, "events_upload.html", http_status=422, nav="record", report=None,
                                 name=name, error=i18n.gettext("Events come as .jsonl (one JSON object per line) "
                                                               "or .csv."))
    report = await _write(request, who.user.workspace, parsed)
    return web(request).page(request, "events_upload.html", http_status=200 if not report.rejected else 422,
                             nav="record", report=report, name=name)


def _read(name: str, raw: bytes) -> list[Parsed]:
    """The file's events by line, read by the same reader as `firmly ingest` (it reads from a path)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        return list(ingest.read_file(path))
