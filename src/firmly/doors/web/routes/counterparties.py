"""The counterparty list (search, filters, scores) and one counterparty's page."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from firmly import bootstrap, redact
from firmly.domain import contacts
from firmly.domain.clock import iso, parse_instant
from firmly.domain.errors import FirmlyError, NotFound
from firmly.domain.invoice import Invoice, MissingDetails
from firmly.domain.vocabulary import EXCEPTION_STATES
from firmly.doors.web import i18n, lists
from firmly.doors.web.routes._common import answer, answer_async, back, field, local_time, store_of, web
from firmly.doors.web.security import ACT, Refused, Visitor, check_form, now_us, signed_in
from firmly.service import accounts, exceptions, invoices, listing, own_page, timeline

router = APIRouter()
KINDS = ("client", "partner", "supplier")
STATUSES = ("active", "restricted", "suspended", "terminated")


COLUMNS = ("name", "key", "kind", "tier", "status", "ratio", "karma", "rating", "courtesy", "klass")


def _found(request: Request, q: str, kind: str, status: str, tier: str, flagged: str, order: str
           ) -> tuple[listing.Scan, list[listing.Summary]]:
    who = signed_in(request)
    found = answer(lambda: listing.scan(store_of(request, who)))
    rows = listing.search(found, q, kind, status, tier, flagged == "1")
    return found, lists.sort(rows, order, COLUMNS, getattr)


@router.get("/counterparties")
def counterparties(request: Request, q: str = "", kind: str = "", status: str = "", tier: str = "",
                   flagged: str = "", page: str = "1", sort: str = "") -> HTMLResponse:
    found, rows = _found(request, q, kind, status, tier, flagged, sort)
    shown, number, pages = lists.page_of(rows, page)
    tiers = sorted({r.tier for r in found.rows})
    context: dict[str, Any] = {
        "rows": shown, "total": len(rows), "page": number, "pages": pages, "everyone": len(found.rows),
        "q": q, "kind": kind, "status": status, "tier": tier, "flagged": flagged == "1", "tiers": tiers,
        "kinds": KINDS, "statuses": STATUSES, "nav": "counterparties", "sort": sort}
    # htmx asks for the results alone while someone types in the search box
    template = "counterparties_results.html" if request.headers.get("hx-request") else "counterparties.html"
    return web(request).page(request, template, **context)


@router.get("/counterparties.csv")
def as_csv(request: Request, q: str = "", kind: str = "", status: str = "", tier: str = "", flagged: str = "",
           sort: str = "") -> Response:
    """The list as filtered and sorted on the page, every page of it."""
    _, rows = _found(request, q, kind, status, tier, flagged, sort)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["key", "name", "kind", "tier", "status", "currency", "effort_minutes", "revenue", "ratio",
                     "flagged", "karma", "rating", "courtesy", "class", "balance"])
    for r in rows:
        writer.writerow([r.key, r.name, r.kind, r.tier, r.status, r.currency, r.effort_minutes, r.revenue,
                         "" if r.ratio is None else round(r.ratio, 4), str(r.flagged).lower(),
                         "" if r.karma is None else r.karma, "" if r.rating is None else round(r.rating, 4),
                         "" if r.courtesy is None else round(r.courtesy, 4), r.klass or "",
                         "" if r.balance is None else r.balance])
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="counterparties.csv"'})


def _context(request: Request, who: Visitor, key: str) -> dict[str, Any]:
    """What the counterparty's page shows: their standing, their personal exceptions, the own page's link."""
    store = store_of(request, who)
    found = answer(lambda: timeline.page(store, key, i18n.current()))
    karma = {"labels": [d * 86_400_000_000 for d, _ in found.karma], "values": [k for _, k in found.karma]}
    link = answer(lambda: own_page.fresh_link(store, key, now_us())) if who.may(ACT) else None
    titles = {r.id: r.title for r in found.rules}
    personal = [{**e, "title": titles.get(e["rule"], e["rule"]), "until_us": parse_instant(e["until"]),
                 "from_us": parse_instant(e["from"]), "state_said": EXCEPTION_STATES.get(e["state"], e["state"])}
                for e in answer(lambda: exceptions.listing(store, key))]
    return {"nav": "counterparties", "p": found, "karma": karma, "role_words": contacts.role_words,
            "personal": personal, "page_link": link, "errors": {}, "values": {}}


@router.get("/counterparties/{key}")
def counterparty(request: Request, key: str, revoked: str = "", excepted: str = "", ended: str = ""
                 ) -> HTMLResponse:
    who = signed_in(request)
    return web(request).page(request, "counterparty.html", **_context(request, who, key), revoked=revoked == "1",
                             excepted=excepted == "1", ended=ended == "1")


@router.post("/counterparties/{key}/exceptions")
async def set_exception(request: Request, key: str) -> Response:
    """A personal exception set from the page: errors are said at their field and nothing is stored."""
    who = signed_in(request, ACT)
    form = await request.form()
    check_form(request, form)
    assert who.user is not None
    context = await run_in_threadpool(_context, request, who, key)
    tz = web(request).timezone(who.user.workspace)
    values = {name: field(form, name) for name in ("rule", "until", "reason", "from")}
    errors: dict[str, str] = {}
    now = now_us()
    if values["rule"] not in {r.id for r in context["p"].rules}:
        errors["rule"] = i18n.gettext("Pick one of their rules.")
    until = local_time(values["until"], tz)
    if until is None:
        errors["until"] = i18n.gettext("A date and time, like 2026-03-01 10:00.")
    elif until <= now:
        errors["until"] = i18n.gettext("This time has passed; an exception ends in the future.")
    start = local_time(values["from"], tz) if values["from"] else None
    if values["from"] and start is None:
        errors["from"] = i18n.gettext("A date and time, like 2026-03-01 10:00.")
    elif start is not None and start >= now:
        errors["from"] = i18n.gettext("This is not earlier than now; leave it empty to apply from now.")
    elif start is not None and until is not None and start >= until:
        errors["from"] = i18n.gettext("This is not before the exception ends.")
    if not values["reason"]:
        errors["reason"] = i18n.gettext("Required: every exception keeps its reason.")
    if not errors and until is not None:
        store = store_of(request, who)
        try:
            await run_in_threadpool(exceptions.set_exception, store, key, values["rule"], iso(until),
                                    values["reason"], who.user.email, None if start is None else iso(start))
        except NotFound as exc:
            raise Refused(404, redact.text(str(exc))) from None
        except FirmlyError as exc:  # what the page could not foresee (the ladder changed meanwhile): at its field
            name = str(exc).split(":")[0]
            errors[name if name in values else "until"] = redact.text(str(exc))
        else:
            return back(f"/counterparties/{quote(key, safe='')}?excepted=1#h-exceptions")
    context.update(values=values, errors=errors)
    return web(request).page(request, "counterparty.html", http_status=422, **context)


@router.post("/counterparties/{key}/exceptions/{exception}/end")
async def end_exception(request: Request, key: str, exception: str) -> Response:
    """An exception ended before its time, with a reason, once the person has confirmed it."""
    who = signed_in(request, ACT)
    form = await request.form()
    check_form(request, form)
    assert who.user is not None
    context = await run_in_threadpool(_context, request, who, key)
    found = [e for e in context["personal"] if e["id"] == exception]
    if not found:
        raise Refused(404, i18n.gettext("No such exception for this counterparty."))
    if found[0]["ended"] is not None:
        raise Refused(409, i18n.gettext("This exception was ended already."))
    reason = field(form, "reason")
    errors: dict[str, str] = {}
    if field(form, "confirmed") == "yes":
        if not reason:
            errors["reason"] = i18n.gettext("Required: ending an exception keeps its reason.")
        else:
            await answer_async(lambda: exceptions.end_exception(store_of(request, who), exception, reason,
                                                                 who.user.email if who.user else ""))
            return back(f"/counterparties/{quote(key, safe='')}?ended=1#h-exceptions")
    return web(request).page(request, "exception_end.html", http_status=422 if errors else 200,
                             nav="counterparties", p=context["p"], e=found[0], reason=reason, errors=errors)


@router.post("/counterparties/{key}/link/revoke")
async def revoke_link(request: Request, key: str) -> Response:
    """Every link to the client's own page made so far stops working, once the person has confirmed it."""
    who = signed_in(request, ACT)
    form = await request.form()
    check_form(request, form)
    store = store_of(request, who)
    if field(form, "confirmed") != "yes":
        found = await answer_async(lambda: timeline.page(store, key, i18n.current()))
        return web(request).page(request, "link_revoke.html", nav="counterparties", p=found)
    await answer_async(lambda: own_page.revoke(store, key))
    return back(f"/counterparties/{quote(key, safe='')}?revoked=1")


@router.get("/counterparties/{key}/invoice.{fmt}")
def invoice(request: Request, key: str, fmt: str, decision: str = "") -> Response:
    """The counterparty's latest top-up invoice (or `decision`'s), as the CLI's `account invoice` writes it."""
    who = signed_in(request)
    store = store_of(request, who)

    def drawn() -> Invoice:
        try:
            return invoices.invoice(store, key, decision or None)
        except MissingDetails as exc:  # said in the reader's language, with what is missing
            raise Refused(409, i18n.gettext(
                "The invoice cannot be drawn until the business's own details are set: %(names)s. An "
                "administrator sets each with `firmly workspace set NAME VALUE`.") % {
                    "names": ", ".join(exc.missing + exc.wrong)}) from None

    found = answer(drawn)
    documents = bootstrap.documents()
    name = f"invoice-{found.number}"
    if fmt == "pdf":
        return Response(documents.invoice_pdf(found), media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})
    if fmt == "html":
        return HTMLResponse(documents.invoice_html(found),
                            headers={"Content-Disposition": f'inline; filename="{name}.html"'})
    raise Refused(404, i18n.gettext("The invoice is available as HTML or PDF."))


@router.get("/counterparties/{key}/statement.csv")
def statement(request: Request, key: str) -> Response:
    """The prepaid account's statement, oldest first, as `account show --json` lists it."""
    who = signed_in(request)
    shown = answer(lambda: accounts.show(store_of(request, who), key))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "kind", "amount", "currency", "memo", "service", "event"])
    for e in shown["entries"]:
        writer.writerow([e.get("at"), e.get("kind"), e.get("amount"), shown["currency"], e.get("memo"),
                         e.get("service") or "", e.get("event") or ""])
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="statement-{_safe(key)}.csv"'})


def _safe(key: str) -> str:
    """A key as a file name: letters, digits, dots and dashes."""
    return "".join(c if c.isalnum() or c in ".-_" else "_" for c in key)[:60] or "account"
