"""Reports over all counterparties, with charts, and each as CSV."""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from firmly.doors.web import i18n, lists
from firmly.doors.web.routes._common import answer, store_of, web
from firmly.doors.web.security import Refused, signed_in
from firmly.service import explanations, reports

router = APIRouter()
CHART_BARS = 30  # the partners with the most karma: a chart of hundreds of bars is unreadable
COLUMNS = {  # the columns each report sorts by (its row's fields)
    "cost-to-serve": ("name", "effort_minutes", "revenue", "ratio"),
    "partners": ("name", "karma", "rating", "reviews", "clean_bookings", "incidents", "bonus"),
    "suppliers": ("name", "class", "weighted", "late_deliveries", "incidents", "switching_cost"),
    "courtesy": ("name", "messages", "hostile", "courtesy"),
}


def _rows(request: Request, name: str) -> list[dict[str, Any]]:
    who = signed_in(request)
    make = reports.BY_NAME.get(name)
    if make is None:
        raise Refused(404, i18n.gettext("No such report."))
    return answer(lambda: make(store_of(request, who)))


@router.get("/reports/{name}.csv")
def as_csv(request: Request, name: str, sort: str = "", currency: str = "") -> Response:
    """Every row of the report (not one page), filtered and sorted as on the page."""
    rows = [r for r in _rows(request, name) if not currency or r.get("currency") == currency]
    out = io.StringIO()
    reports.write_csv(lists.sort(rows, sort, COLUMNS.get(name, ()), _cell), out, ", ")
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/reports")
def first(request: Request) -> HTMLResponse:
    return report(request, "cost-to-serve")


@router.get("/reports/{name}")
def report(request: Request, name: str, page: str = "1", sort: str = "", currency: str = "") -> HTMLResponse:
    rows = _rows(request, name)
    words = answer(lambda: explanations.workspace_words(store_of(request, signed_in(request)), i18n.current()))
    currencies = sorted({str(r["currency"]) for r in rows if r.get("currency")})
    if currency:
        rows = [r for r in rows if r.get("currency") == currency]
    rows = lists.sort(rows, sort, COLUMNS.get(name, ()), _cell)
    charts: list[dict[str, Any]] = []
    if name == "cost-to-serve":  # effort against revenue, the flagged ones marked: one chart per currency
        for code in [currency] if currency else currencies:
            points = [{"x": float(r["revenue"]), "y": r["effort_minutes"], "key": r["key"], "name": r["name"],
                       "flagged": r["flagged"], "currency": r["currency"]}
                      for r in rows if r["currency"] == code and (r["effort_minutes"] or float(r["revenue"]))]
            if points:
                charts.append({"currency": code, "points": points})
    elif name == "partners":
        top = sorted(rows, key=lambda r: -(r["karma"] or 0))[:CHART_BARS]
        charts.append({"labels": [r["name"] for r in top], "values": [r["karma"] or 0 for r in top]})
    shown, number, pages = lists.page_of(rows, page)
    return web(request).page(request, "report.html", nav="reports", name=name, rows=shown, total=len(rows),
                             page=number, pages=pages, charts=charts, currencies=currencies, currency=currency,
                             names=list(reports.BY_NAME), named=words.service)


def _cell(row: dict[str, Any], column: str) -> Any:
    return row.get(column)
