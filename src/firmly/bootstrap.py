"""The one place where settings become adapters."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from firmly import config
from firmly.adapters.sql.store import SqlStore, make_engine


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    return make_engine(url)


def engine(database_url: str | None = None) -> Engine:
    """One SQLAlchemy engine (and connection pool) per database, shared by every store."""
    return _engine(config.DATABASE_URL.value(database_url))


def store(database_url: str | None = None, workspace: str | None = None) -> SqlStore:
    url = config.DATABASE_URL.value(database_url)
    return SqlStore(_engine(url), config.WORKSPACE.value(workspace))
