"""The dashboard: what waits for a decision today, and how decisions trend."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from firmly.doors.web.routes._common import answer, store_of, web
from firmly.doors.web.security import signed_in
from firmly.service import dashboard

router = APIRouter()


@router.get("/")
def home(request: Request) -> HTMLResponse:
    who = signed_in(request)
    found = answer(lambda: dashboard.dashboard(store_of(request, who)))
    chart = {"labels": found.weeks, "series": found.trend}
    return web(request).page(request, "dashboard.html", nav="home", d=found, chart=chart)
