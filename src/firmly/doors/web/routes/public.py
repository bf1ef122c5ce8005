"""A partner's public page: no login; karma, rating and published reviews only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from firmly.domain.errors import FirmlyError
from firmly.doors.web import i18n
from firmly.doors.web.routes._common import web
from firmly.doors.web.security import Refused
from firmly.service import reviews

router = APIRouter()


@router.get("/partners/{workspace}/{key}")
def partner(request: Request, workspace: str, key: str) -> HTMLResponse:
    try:
        found = reviews.partner_page(web(request).store(workspace), key)
    except FirmlyError:  # no such partner, or no such workspace: a stranger learns nothing either way
        raise Refused(404, i18n.gettext("No such partner.")) from None
    karma = {"labels": [d * 86_400_000_000 for d, _ in found.history], "values": [k for _, k in found.history]}
    return web(request).page(request, "partner.html", p=found, karma=karma, public=True,
                             tz=web(request).timezone(workspace))
