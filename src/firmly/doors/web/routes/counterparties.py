"""The counterparty list (search, filters, scores) and one counterparty's page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from firmly.domain.invoice import Invoice, MissingDetails
from firmly.doors.web import i18n
from firmly.doors.web.routes._common import answer, store_of, web
from firmly.doors.web.security import Refused, signed_in
from firmly.service import invoices, listing, timeline

router = APIRouter()
PAGE = 50
KINDS = ("client", "partner", "supplier")
STATUSES = ("active", "restricted", "suspended", "terminated")


@router.get("/counterparties")
def counterparties(request: Request, q: str = "", kind: str = "", status: str = "", tier: str = "",
                   flagged: str = "", page: str = "1") -> HTMLResponse:
    who = signed_in(request)
    found = answer(lambda: listing.scan(store_of(request, who)))
    rows = listing.search(found, q, kind, status, tier, flagged == "1")
    number = max(1, int(page)) if page.isdigit() else 1
    pages = max(1, -(-len(rows) // PAGE))
    number = min(number, pages)
    tiers = sorted({r.tier for r in found.rows})
    context: dict[str, Any] = {
        "rows": rows[(number - 1) * PAGE: number * PAGE], "total": len(rows), "page": number, "pages": pages,
        "q": q, "kind": kind, "status": status, "tier": tier, "flagged": flagged == "1", "tiers": tiers,
        "kinds": KINDS, "statuses": STATUSES, "nav": "counterparties"}
    # htmx asks for the results alone while someone types in the search box
    template = "counterparties_results.html" if request.headers.get("hx-request") else "counterparties.html"
    return web(request).page(request, template, **context)


@router.get("/counterparties/{key}")
def counterparty(request: Request, key: str) -> HTMLResponse:
    who = signed_in(request)
    found = answer(lambda: timeline.page(store_of(request, who), key))
    karma = {"labels": [d * 86_400_000_000 for d, _ in found.karma], "values": [k for _, k in found.karma]}
    return web(request).page(request, "counterparty.html", nav="counterparties", p=found, karma=karma)


@router.get("/counterparties/{key}/invoice.pdf")
def invoice(request: Request, key: str, decision: str = "") -> Response:
    """The counterparty's latest top-up invoice (or `decision`'s) as the PDF it was sent as."""
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

    inv = answer(drawn)
    from firmly.adapters import documents  # noqa: PLC0415 - WeasyPrint takes a while to import; only here

    return Response(documents.invoice_pdf(inv), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="invoice-{inv.number}.pdf"'})
