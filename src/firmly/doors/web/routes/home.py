"""The dashboard: what waits for a decision today, and how decisions trend."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from firmly.doors.web.routes._common import answer, back, store_of, web
from firmly.doors.web.security import signed_in
from firmly.service import dashboard, rulebooks

router = APIRouter()


@router.get("/")
def home(request: Request) -> Response:
    who = signed_in(request)
    store = store_of(request, who)
    found = answer(lambda: dashboard.dashboard(store))
    if found.empty and not answer(lambda: rulebooks.stored(store)):
        return back("/start")  # an empty workspace opens on the start page
    chart = {"labels": found.weeks, "series": found.trend}
    return web(request).page(request, "dashboard.html", nav="home", d=found, chart=chart)
