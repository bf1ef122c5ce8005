"""Who is asking: the session cookie, the CSRF token every form must carry, roles.

A logged-in browser holds a random session secret (HttpOnly, SameSite=Lax); the forms of that session carry
the session's CSRF token. Before login, the token is a random value in its own cookie (double submit), so
even the login form cannot be posted from another site. State changes only by POST."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response

from firmly import config
from firmly.domain.ports import SessionRow, UserRow, UserStore
from firmly.doors.web import i18n
from firmly.service import users

SESSION = "firmly_session"
CSRF = "firmly_csrf"
LANG = "firmly_lang"
READ = ("admin", "operator", "viewer")
ACT = ("admin", "operator")
ADMIN = ("admin",)


class LoginRequired(Exception):
    """No live session: the browser is sent to the login page."""


class Refused(Exception):
    """An answer other than the page asked for: 403 (role, CSRF), 404, 400; rendered as an error page."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


@dataclass(slots=True)
class Visitor:
    user: UserRow | None
    session: SessionRow | None
    csrf: str  # the token this visitor's forms carry
    lang: str
    new_csrf: bool = False  # a pre-login token was made for this response: set its cookie

    @property
    def role(self) -> str | None:
        return self.user.role if self.user else None

    def may(self, roles: tuple[str, ...]) -> bool:
        return self.user is not None and self.user.role in roles


def now_us() -> int:
    return time.time_ns() // 1000


def lifetime_us() -> int:
    return int(float(config.SESSION_HOURS.value()) * 3600 * 1_000_000)


def store(request: Request) -> UserStore:
    found: UserStore = request.app.state.web.store("")
    return found


def visitor(request: Request) -> Visitor:
    """The visitor of this request, found once (cookies, session row, language)."""
    cached: Visitor | None = getattr(request.state, "visitor", None)
    if cached is not None:
        return cached
    secret = request.cookies.get(SESSION, "")
    found = users.session(store(request), secret, now_us()) if secret else None
    session, user = found if found is not None else (None, None)
    if user is not None and user.role not in READ:  # only people with a UI role; never an ingest login
        session, user = None, None
    default = request.app.state.web.workspace_locale(user.workspace) if user else None
    lang = i18n.choose(request.cookies.get(LANG), request.headers.get("accept-language"), default)
    if session is not None:
        token, fresh = session.csrf, False
    else:
        cookie = request.cookies.get(CSRF, "")
        token, fresh = (cookie, False) if len(cookie) >= 32 else (secrets.token_urlsafe(32), True)
    result = Visitor(user, session, token, lang, fresh)
    request.state.visitor = result
    i18n.use(lang)
    return result


def signed_in(request: Request, roles: tuple[str, ...] = READ) -> Visitor:
    """The visitor, who must be logged in (else LoginRequired) with one of `roles` (else 403)."""
    who = visitor(request)
    if who.user is None:
        raise LoginRequired
    if who.user.role not in roles:
        raise Refused(403, i18n.gettext("Your role does not allow this."))
    return who


def check_form(request: Request, form: Any) -> None:
    """Refuse a POST whose CSRF token is missing or wrong, or that comes from another origin."""
    who = visitor(request)
    sent = form.get("csrf")
    if not isinstance(sent, str) or not sent or not hmac.compare_digest(sent.encode(), who.csrf.encode()):
        raise Refused(403, i18n.gettext("The form has expired or did not come from this site. Please try again."))
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise Refused(403, i18n.gettext("The form has expired or did not come from this site. Please try again."))


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")


def safe_next(target: str | None) -> str:
    """Only a path on this site: a login link cannot send people elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
