"""One suite per port, run on every implementation: memory, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest

from firmly.adapters.memory import MemoryStore
from firmly.adapters.sql.store import SqlStore, make_engine
from firmly.domain.ports import Logins, Operations, Store
from firmly.service import workspace


class Contracted(Store, Logins, Operations, Protocol):
    """The ports every backend implements, memory included (connectors are the SQL stores' alone)."""


MakeStore = Callable[[str], Contracted]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    """A factory of initialised stores sharing one database: one per workspace name."""
    if request.param == "memory":
        shared: dict[str, MemoryStore] = {}
        first = MemoryStore()

        def memory(name: str) -> Contracted:
            store = shared.get(name)
            if store is None:
                store = MemoryStore(name)
                store._data = first._data  # one "database", several workspaces
                shared[name] = store
            workspace.init(store, "ru", "Europe/Moscow", 0)
            return store

        yield memory
        return
    url = f"sqlite:///{tmp_path / 'contract.db'}" if request.param == "sqlite" else \
        request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    suffix = uuid.uuid4().hex[:8]  # PostgreSQL's database is shared by the session: fresh workspaces

    def sql(name: str) -> Contracted:
        store = SqlStore(engine, f"{name}-{suffix}")
        workspace.init(store, "ru", "Europe/Moscow", 0)
        return store

    yield sql
    engine.dispose()  # its pooled connections closed now, not left to the garbage collector


@pytest.fixture
def store(make_store: MakeStore) -> Contracted:
    return make_store("main")
