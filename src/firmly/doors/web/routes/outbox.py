"""The outbox: messages waiting, sent and failed with the reason; a failed one (or all) sent again."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from firmly.domain import contacts
from firmly.doors.web.routes._common import answer_async, back, field, store_of, web
from firmly.doors.web.security import ACT, check_form, now_us, signed_in
from firmly.service import outbox_page, worker

router = APIRouter()


@router.get("/outbox")
async def outbox(request: Request, state: str = "", retried: str = "") -> HTMLResponse:
    who = signed_in(request)
    state = state if state in outbox_page.STATES else ""
    store = store_of(request, who)
    found = await answer_async(lambda: outbox_page.letters(store, state))
    return web(request).page(request, "outbox.html", nav="outbox", found=found, state=state,
                             retried=int(retried) if retried.isdigit() else None, fallback=contacts.fallback_note)


@router.post("/outbox/retry")
async def retry(request: Request) -> Response:
    who = signed_in(request, ACT)
    form = await request.form()
    check_form(request, form)
    message = field(form, "message") or None
    store = store_of(request, who)
    n = await answer_async(lambda: worker.retry(store, message, now_us()))
    return back(f"/outbox?state=waiting&retried={n}")
