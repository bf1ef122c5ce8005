"""The SQL adapter's errors reach the service and the doors as the domain's: no door knows SQLAlchemy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import DataError, OperationalError

from firmly.adapters.sql.errors import NOT_INITIALISED, translated
from firmly.adapters.sql.store import SqlStore, make_engine
from firmly.domain.errors import StorageError, StorageFailed, StorageFull, ValueRefused
from firmly.service import workspace


def test_each_kind_of_database_error_becomes_its_domain_error() -> None:
    too_long = translated(DataError("INSERT ...", {}, Exception("value too long for type character varying(200)\n"
                                                                "more")))
    assert isinstance(too_long, ValueRefused) and str(too_long) == "value too long for type character varying(200)"
    full = translated(OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full")))
    assert isinstance(full, StorageFull)
    missing = translated(OperationalError("SELECT", {}, Exception('relation "workspaces" does not exist')))
    assert type(missing) is StorageError and str(missing) == NOT_INITIALISED
    other = translated(OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked")))
    assert isinstance(other, StorageFailed) and str(other) == "database is locked"


def test_a_failed_transaction_stores_nothing_and_says_so_as_a_domain_error(tmp_path: Path) -> None:
    store = SqlStore(make_engine(f"sqlite:///{tmp_path / 'w.db'}"), "w")
    workspace.init(store, "en", "Europe/London", 0)
    with pytest.raises(StorageFailed, match="syntax error"), store.write():
        store.set_setting("kept", "no")
        store._run("SELEKT 1", ())
    with store.read():
        assert store.settings() == {}  # the setting written before the failure was rolled back with it
