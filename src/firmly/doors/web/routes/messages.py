"""A preview of every message a rulebook sends, per action and language, with the workspace's sender."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from firmly.doors.web.routes._common import answer_async, store_of, web
from firmly.doors.web.security import signed_in
from firmly.service import previews

router = APIRouter()


@router.get("/messages")
async def messages(request: Request, rulebook: str = "", lang: str = "") -> HTMLResponse:
    who = signed_in(request)
    store = store_of(request, who)
    ids = await answer_async(lambda: previews.rulebook_ids(store))
    chosen = rulebook if rulebook in ids else (ids[0] if ids else "")
    found = await answer_async(lambda: previews.previews(store, chosen)) if chosen else []
    shown = [p for p in found if lang in ("", p.lang)]  # `lang` in the template is the page's own language
    return web(request).page(request, "messages.html", nav="outbox", ids=ids, chosen=chosen, only_lang=lang,
                             previews=shown)
