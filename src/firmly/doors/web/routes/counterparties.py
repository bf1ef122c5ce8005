"""The counterparty list (search, filters, scores) and one counterparty's page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from firmly.doors.web import i18n
from firmly.doors.web.routes._common import answer, store_of, web
from firmly.doors.web.security import signed_in
from firmly.service import listing, timeline

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
    found = answer(lambda: timeline.page(store_of(request, who), key, i18n.current()))
    karma = {"labels": [d * 86_400_000_000 for d, _ in found.karma], "values": [k for _, k in found.karma]}
    return web(request).page(request, "counterparty.html", nav="counterparties", p=found, karma=karma)
