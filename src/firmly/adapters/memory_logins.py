"""The UserStore part of the in-memory store: web UI logins and sessions (a mixin of MemoryStore)."""

from __future__ import annotations

from typing import Any

from firmly.domain.ports import AttemptRow, SessionRow, UserRow


class MemoryLogins:
    workspace: str
    _data: dict[str, Any]

    def _table(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self._data.setdefault(name, {})  # inside _data: a failed write rolls it back
        return found

    def put_user(self, user: UserRow) -> None:
        self._table("users")[user.id] = user

    def find_user(self, email: str) -> UserRow | None:
        return next((u for u in self._table("users").values() if u.email == email), None)

    def user(self, user_id: str) -> UserRow | None:
        found: UserRow | None = self._table("users").get(user_id)
        return found

    def users(self) -> list[UserRow]:
        return sorted((u for u in self._table("users").values() if u.workspace == self.workspace),
                      key=lambda u: u.email)

    def add_session(self, session: SessionRow) -> None:
        self._table("web_sessions")[session.id] = session

    def find_session(self, session_id: str) -> SessionRow | None:
        found: SessionRow | None = self._table("web_sessions").get(session_id)
        return found

    def drop_session(self, session_id: str) -> None:
        self._table("web_sessions").pop(session_id, None)

    def drop_sessions(self, user_id: str, before: int | None = None) -> None:
        table = self._table("web_sessions")
        for sid in [k for k, s in table.items() if s.user_id == user_id and (before is None or s.expires_at < before)]:
            del table[sid]

    def login_attempts(self, keys: list[str]) -> dict[str, AttemptRow]:
        table = self._table("login_attempts")
        return {k: table[k] for k in keys if k in table}

    def put_login_attempt(self, row: AttemptRow) -> None:
        self._table("login_attempts")[row.key] = row

    def drop_login_attempts(self, keys: list[str] | None = None, before: int | None = None) -> None:
        table = self._table("login_attempts")
        for key in [k for k, r in table.items()
                    if (keys is None or k in keys) and (before is None or r.last_at < before)]:
            del table[key]
