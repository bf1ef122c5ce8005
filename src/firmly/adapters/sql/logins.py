"""The UserStore part of the SQL store: web UI logins and sessions (a mixin of SqlStore).

On PostgreSQL `users` and `web_sessions` are the directory of web logins: an email or a session cookie is looked
up before its workspace is known. Their statements go through row-level security's `logins` way (migration
0014_row_security); a workspace's own list of users goes by the workspace, as every other query."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection

from firmly.adapters.sql.tables import login_attempts, users, web_sessions
from firmly.domain.ports import AttemptRow, SessionRow, UserRow


def _user(r: Any) -> UserRow:
    return UserRow(r.id, r.workspace, r.email, r.role, r.password, r.created_at)


def _session(r: Any) -> SessionRow:
    return SessionRow(r.id, r.user_id, r.workspace, r.csrf, r.created_at, r.expires_at)


class Logins:
    workspace: str

    @property
    def c(self) -> Connection:  # the store's open transaction (SqlStore.c)
        raise NotImplementedError

    def _through(self, path: str) -> AbstractContextManager[None]:  # SqlStore's: one way across workspaces
        raise NotImplementedError

    def put_user(self, user: UserRow) -> None:
        with self._through("logins"):
            values = {"workspace": user.workspace, "email": user.email, "role": user.role,
                      "password": user.password, "created_at": user.created_at}
            done = self.c.execute(update(users).where(users.c.id == user.id).values(**values))
            if not done.rowcount:
                self.c.execute(insert(users).values(id=user.id, **values))

    def find_user(self, email: str) -> UserRow | None:
        with self._through("logins"):
            r = self.c.execute(select(users).where(users.c.email == email)).first()
            return None if r is None else _user(r)

    def user(self, user_id: str) -> UserRow | None:
        with self._through("logins"):
            r = self.c.execute(select(users).where(users.c.id == user_id)).first()
            return None if r is None else _user(r)

    def users(self) -> list[UserRow]:
        rows = self.c.execute(select(users).where(users.c.workspace == self.workspace).order_by(users.c.email))
        return [_user(r) for r in rows]

    def add_session(self, session: SessionRow) -> None:
        with self._through("logins"):
            self.c.execute(insert(web_sessions).values(
                id=session.id, user_id=session.user_id, workspace=session.workspace, csrf=session.csrf,
                created_at=session.created_at, expires_at=session.expires_at))

    def find_session(self, session_id: str) -> SessionRow | None:
        with self._through("logins"):
            r = self.c.execute(select(web_sessions).where(web_sessions.c.id == session_id)).first()
            return None if r is None else _session(r)

    def drop_session(self, session_id: str) -> None:
        with self._through("logins"):
            self.c.execute(delete(web_sessions).where(web_sessions.c.id == session_id))

    def drop_sessions(self, user_id: str, before: int | None = None) -> None:
        with self._through("logins"):
            query = delete(web_sessions).where(web_sessions.c.user_id == user_id)
            if before is not None:
                query = query.where(and_(web_sessions.c.expires_at < before))
            self.c.execute(query)

    def login_attempts(self, keys: list[str]) -> dict[str, AttemptRow]:
        rows = self.c.execute(select(login_attempts).where(login_attempts.c.key.in_(keys)))
        return {r.key: AttemptRow(r.key, r.failures, r.last_at, r.locked_until) for r in rows}

    def put_login_attempt(self, row: AttemptRow) -> None:
        # read and written in one write transaction (SQLite's one writer, PostgreSQL's workspace lock): no race
        values = {"failures": row.failures, "last_at": row.last_at, "locked_until": row.locked_until}
        done = self.c.execute(update(login_attempts).where(login_attempts.c.key == row.key).values(**values))
        if not done.rowcount:
            self.c.execute(insert(login_attempts).values(key=row.key, **values))

    def drop_login_attempts(self, keys: list[str] | None = None, before: int | None = None) -> None:
        query = delete(login_attempts)
        if keys is not None:
            query = query.where(login_attempts.c.key.in_(keys))
        if before is not None:
            query = query.where(login_attempts.c.last_at < before)
        self.c.execute(query)
