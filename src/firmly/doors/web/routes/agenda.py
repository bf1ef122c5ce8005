"""The agenda: a day's or a week's appointments, orders and deadlines with reminders and standing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from firmly.doors.web.routes._common import answer_async, store_of, web
from firmly.doors.web.security import signed_in
from firmly.service import agenda as agenda_service

router = APIRouter()


@router.get("/agenda")
async def agenda(request: Request, span: str = "day") -> HTMLResponse:
    who = signed_in(request)
    store = store_of(request, who)
    found = await answer_async(lambda: agenda_service.agenda(store, span))
    return web(request).page(request, "agenda.html", nav="agenda", a=found)
