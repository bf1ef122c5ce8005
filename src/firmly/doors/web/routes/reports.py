"""Reports over all counterparties, with charts, and each as CSV."""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from firmly.doors.web import i18n
from firmly.doors.web.routes._common import answer, store_of, web
from firmly.doors.web.security import Refused, signed_in
from firmly.service import reports

router = APIRouter()


def _rows(request: Request, name: str) -> list[dict[str, Any]]:
    who = signed_in(request)
    make = reports.BY_NAME.get(name)
    if make is None:
        raise Refused(404, i18n.gettext("No such report."))
    return answer(lambda: make(store_of(request, who)))


@router.get("/reports/{name}.csv")
def as_csv(request: Request, name: str) -> Response:
    out = io.StringIO()
    reports.write_csv(_rows(request, name), out, ", ")
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/reports")
def first(request: Request) -> HTMLResponse:
    return report(request, "cost-to-serve")


@router.get("/reports/{name}")
def report(request: Request, name: str) -> HTMLResponse:
    rows = _rows(request, name)
    chart: dict[str, Any] = {}
    if name == "cost-to-serve":  # effort against revenue, the flagged ones marked
        chart = {"points": [{"x": float(r["revenue"]), "y": r["effort_minutes"], "key": r["key"], "name": r["name"],
                             "flagged": r["flagged"], "currency": r["currency"]}
                            for r in rows if r["effort_minutes"] or float(r["revenue"])]}
    elif name == "partners":
        chart = {"labels": [r["name"] for r in rows], "values": [r["karma"] or 0 for r in rows]}
    return web(request).page(request, "report.html", nav="reports", name=name, rows=rows, chart=chart,
                             names=list(reports.BY_NAME))


