"""`firmly init`: migrate the database and create (or update) the workspace."""

from __future__ import annotations

from firmly.domain.ports import Store, WorkspaceInfo


def init(store: Store, locale: str | None, timezone: str | None, now: int) -> WorkspaceInfo:
    store.migrate()
    with store.write():
        return store.ensure_workspace(locale, timezone, now)
