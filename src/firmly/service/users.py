"""Web UI logins: people with a password and a role, and the sessions their browsers hold.

Passwords are people's choice, so they are hashed with argon2id (slow on purpose); a session's cookie is
256 random bits, so its SHA-256 is enough to find it without keeping the secret itself.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from firmly.domain.errors import Conflict, FirmlyError
from firmly.domain.ports import SessionRow, UserRow, UserStore
from firmly.service import workspace

ROLES = ("admin", "operator", "viewer")  # an ingest token has no person behind it: no UI login
MIN_PASSWORD = 8
_hasher = PasswordHasher()


@cache
def _dummy() -> str:
    """Verified when the email is unknown, so that both answers take as long. Hashed on first use: at import it
    cost every command 0.15 s."""
    return _hasher.hash("a password nobody has")



@dataclass(frozen=True, slots=True)
class Signed:
    """A session just opened: `secret` goes into the cookie, only its hash is stored."""

    secret: str
    session: SessionRow
    user: UserRow


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normal_email(email: str) -> str:
    return email.strip().lower()


def create(store: UserStore, email: str, role: str, password: str, now: int) -> UserRow:
    """A new login in the store's workspace; for an email it has already, a new password and role (and its
    sessions end)."""
    email = normal_email(email)
    if role not in ROLES:
        raise FirmlyError(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
    if "@" not in email or email.startswith("@") or email.endswith("@") or any(c.isspace() for c in email):
        raise FirmlyError(f"--email must be an email address, got {email!r}")
    if len(password) < MIN_PASSWORD:
        raise FirmlyError(f"the password must be at least {MIN_PASSWORD} characters long")
    with store.write():
        workspace.current(store)
        found = store.find_user(email)
        if found is not None and found.workspace != store.workspace:
            raise Conflict(f"{email} already logs in to workspace {found.workspace!r}; an email has one workspace")
        user = UserRow(found.id if found else secrets.token_hex(8), store.workspace, email, role,
                       _hasher.hash(password), found.created_at if found else now)
        store.put_user(user)
        if found is not None:
            store.drop_sessions(found.id)
        return user


def listed(store: UserStore) -> list[UserRow]:
    with store.read():
        workspace.current(store)
        return store.users()


def authenticate(store: UserStore, email: str, password: str) -> UserRow | None:
    """The user if the password is right, else None (an unknown email costs as long as a wrong password)."""
    with store.read():
        user = store.find_user(normal_email(email))
    try:
        _hasher.verify(user.password if user else _dummy(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password):  # the hasher's parameters were raised since
        with store.write():
            store.put_user(replace(user, password=_hasher.hash(password)))
    return user


def open_session(store: UserStore, user: UserRow, now: int, lifetime_us: int, previous: str | None = None
                 ) -> Signed:
    """A new session for a user who just logged in; the browser's previous session, if any, ends (the id
    rotates at login, so one planted before it is worth nothing after)."""
    secret = secrets.token_urlsafe(32)
    row = SessionRow(_digest(secret), user.id, user.workspace, secrets.token_urlsafe(32), now, now + lifetime_us)
    with store.write():
        if previous:
            store.drop_session(_digest(previous))
        store.drop_sessions(user.id, before=now)  # tidy: this user's expired sessions
        store.add_session(row)
    return Signed(secret, row, user)


def session(store: UserStore, secret: str, now: int) -> tuple[SessionRow, UserRow] | None:
    """The live session a cookie holds, with its user; None when unknown, expired, or the user is gone."""
    if not secret:
        return None
    with store.read():
        row = store.find_session(_digest(secret))
        user = store.user(row.user_id) if row is not None else None
    if row is None or user is None or row.expires_at <= now or user.workspace != row.workspace:
        return None
    return row, user


def close_session(store: UserStore, secret: str) -> None:
    with store.write():
        store.drop_session(_digest(secret))

