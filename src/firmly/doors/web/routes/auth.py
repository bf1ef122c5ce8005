"""Login, logout and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from firmly.doors.web import i18n
from firmly.doors.web.app import finish
from firmly.doors.web.routes._common import back, field, web
from firmly.doors.web.security import (
    CSRF,
    LANG,
    SESSION,
    check_form,
    lifetime_us,
    now_us,
    safe_next,
    set_cookie,
    store,
    visitor,
)
from firmly.service import throttle, users

router = APIRouter()


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    who = visitor(request)
    if who.user is not None:
        return back(safe_next(next))
    return web(request).page(request, "login.html", next=safe_next(next), email="", error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    check_form(request, form)
    email, password, target = field(form, "email"), form.get("password"), safe_next(field(form, "next"))
    found = None
    if isinstance(password, str) and email:
        address = request.client.host if request.client else "unknown"
        turn = await run_in_threadpool(throttle.take_turn, store(request), email, address, now_us())
        if turn.wait:  # refused before the password is looked at: a guess made now tells nothing
            message = i18n.ngettext("Too many attempts; try again in %(num)s second.",
                                    "Too many attempts; try again in %(num)s seconds.", turn.wait) % {"num": turn.wait}
            refused: HTMLResponse = web(request).page(request, "login.html", http_status=429, next=target,
                                                      email=email, error=message)
            refused.headers["Retry-After"] = str(turn.wait)
            return refused
        found = await run_in_threadpool(users.authenticate, store(request), email, password)
        if found is not None:
            await run_in_threadpool(throttle.succeeded, store(request), turn, now_us())
    if found is None or found.role not in users.ROLES:
        page: HTMLResponse = web(request).page(request, "login.html", http_status=401, next=target, email=email,
                                               error=i18n.gettext("Wrong email or password."))
        return page
    signed = await run_in_threadpool(users.open_session, store(request), found, now_us(), lifetime_us(),
                                     request.cookies.get(SESSION))
    response = back(target)
    set_cookie(request, response, SESSION, signed.secret, lifetime_us() // 1_000_000)
    response.delete_cookie(CSRF, path="/")  # the session's own token takes over
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    check_form(request, form)
    secret = request.cookies.get(SESSION)
    if secret:
        await run_in_threadpool(users.close_session, store(request), secret)
    response = back("/login")
    response.delete_cookie(SESSION, path="/")
    return response


@router.post("/lang")
async def language(request: Request) -> Response:
    """A preference, not data, but still a POST with the form's token: a link cannot change it."""
    form = await request.form()
    check_form(request, form)
    lang = field(form, "lang")
    response = back(safe_next(field(form, "next")))
    if lang in i18n.LOCALES:
        set_cookie(request, response, LANG, lang, 365 * 86400)
    finish(request, response, visitor(request))
    return response
