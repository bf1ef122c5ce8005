"""Small helpers the page modules share."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from firmly import redact
from firmly.domain import limits
from firmly.domain.clock import to_us
from firmly.domain.errors import Busy, Conflict, FirmlyError, InvalidInput, NotFound, Problem
from firmly.domain.ports import Storage
from firmly.domain.rulebook import Rulebook
from firmly.doors.web import i18n
from firmly.doors.web.app import Web
from firmly.doors.web.security import Refused, Visitor, now_us
from firmly.service import listing, rulebooks, what_if_jobs

T = TypeVar("T")


def web(request: Request) -> Web:
    found: Web = request.app.state.web
    return found


def store_of(request: Request, who: Visitor) -> Storage:
    assert who.user is not None
    return web(request).store(who.user.workspace)


def job_names(request: Request, who: Visitor, job: what_if_jobs.Job | None) -> dict[str, str]:
    """The counterparties' names a what-if's result shows, once it has one (a small workspace's job may be done
    before the page that started it is drawn)."""
    if job is None or job.result is None:
        return {}
    scan = answer(lambda: listing.scan(store_of(request, who)))
    return {r.key: r.name for r in scan.rows}


def answer(call: Callable[[], T]) -> T:
    """Run a use case; its errors become pages (404, 409, 400) rather than the API's JSON."""
    try:
        return call()
    except NotFound as exc:
        raise Refused(404, redact.text(str(exc))) from None
    except Conflict as exc:
        raise Refused(409, redact.text(str(exc))) from None
    except Busy:
        raise  # the page says it in the reader's language (see busy())
    except FirmlyError as exc:
        raise Refused(400, redact.text(str(exc))) from None


async def answer_async(call: Callable[[], T]) -> T:
    return await run_in_threadpool(answer, call)


def busy(exc: Busy) -> Refused:
    """A 429 page for work that waits its turn, in the reader's language."""
    return Refused(429, i18n.gettext("A simulation is already running in this workspace; try again in a few "
                                     "seconds."), {"Retry-After": str(exc.retry_after)})


def back(to: str) -> RedirectResponse:
    """Post/Redirect/Get: after a change, the browser loads a page (a reload does not post again)."""
    return RedirectResponse(to, status_code=303)


def field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


_BODY = re.compile(r"<body>(.*)</body>", re.S)


def body_of(document: str) -> str:
    """What is inside a whole HTML document's <body>: an appendix shown within a page."""
    found = _BODY.search(document)
    return found.group(1) if found else document


async def stored_version(request: Request, who: Visitor, book: Rulebook) -> rulebooks.Loaded:
    """A checked rulebook stored as a new version (or found the same as one), loaded by the signed-in person."""
    assert who.user is not None
    email = who.user.email
    return await answer_async(lambda: rulebooks.load(store_of(request, who), book, now_us(), email))


async def shown_when_stored(request: Request, who: Visitor, book: Rulebook) -> RedirectResponse | list[Problem]:
    """Stores the rulebook and goes to its version's page; the problems the store found with it, if any, for the
    form to show instead."""
    try:
        loaded = await stored_version(request, who, book)
    except InvalidInput as exc:
        return exc.problems
    return back(f"/rulebooks/{loaded.id}/{loaded.version}?loaded={'new' if loaded.new else 'same'}")


def local_time(value: str, tz: str) -> int | None:
    """A time from a date-time box (µs), read in the workspace's time zone when it names none; None for text
    that is no time or a year outside what the engine keeps."""
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        return None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(tz))
    return to_us(local) if limits.FIRST_YEAR < local.year < limits.END_YEAR else None
