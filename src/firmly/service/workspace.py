"""The workspace: `firmly init` creates it; every other use case starts by finding it."""

from __future__ import annotations

from typing import Any

from firmly.domain.errors import FirmlyError
from firmly.domain.ports import Store, WorkspaceInfo


def init(store: Store, locale: str | None, timezone: str | None, now: int) -> WorkspaceInfo:
    store.migrate()
    with store.write():
        return store.ensure_workspace(locale, timezone, now)


def current(store: Store, count: bool = False) -> WorkspaceInfo:
    """The store's workspace, or a clear error telling how to create it; `count`: with how many events wait."""
    ws = store.workspace_info(count)
    if ws is None:
        raise FirmlyError(f"workspace {store.workspace!r} does not exist: run `firmly init` first")
    return ws


def language(store: Store) -> str | None:
    """The workspace's language, or None where there is no workspace yet."""
    with store.read():
        ws = store.workspace_info()
    return ws.locale if ws is not None else None


def version(store: Store, ws: WorkspaceInfo) -> tuple[Any, ...]:
    """A key that changes whenever what the workspace's derived figures depend on does: its history, clock and
    rules (and how far it is decided). Caches of whole-workspace scans are kept under it."""
    return (id(store.database), store.workspace, ws.events, ws.decided, ws.waiting, ws.clock, ws.ticked,
            tuple((r.id, r.version, r.hash) for r in store.rulebooks()))


def info(store: Store, count: bool = False) -> WorkspaceInfo:
    """The workspace's language, time zone and clock, read on their own (a door shows times with them)."""
    with store.read():
        return current(store, count)
