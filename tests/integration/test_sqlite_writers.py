"""SQLite's writers: they take turns through a lock file (across processes), leave no write-ahead log behind a
command, and driver errors stay friendly."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from firmly.adapters.sql import store as store_module
from firmly.adapters.sql.store import SqlStore, _writers, make_engine
from firmly.domain.errors import StorageError, StorageFailed
from firmly.service import workspace
from tests.integration.test_cli import EXAMPLE, firmly


def _store(tmp_path: Path) -> SqlStore:
    store = SqlStore(make_engine(f"sqlite:///{tmp_path / 'w.db'}"), "w")
    workspace.init(store, "en", "Europe/London", 0)
    return store


def _hold(path: Path, seconds: float, held: threading.Event) -> None:
    """Another writer: its own open file description, so flock conflicts as with another process."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.set()
        time.sleep(seconds)
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def test_a_writer_waits_for_the_one_holding_the_lock_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    held = threading.Event()
    other = threading.Thread(target=_hold, args=(tmp_path / "w.db-writer.lock", 0.4, held))
    other.start()
    held.wait(5)
    start = time.monotonic()
    with store.write():
        store.set_clock(42, None)
    waited = time.monotonic() - start
    other.join()
    assert 0.3 <= waited < 5, waited
    with store.read():
        assert workspace.current(store).clock == 42


def test_a_driver_error_leaves_the_store_as_a_domain_error_so_the_doors_explain_it(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with pytest.raises(StorageError, match="run `firmly init` first") as raised, store.read():
        store._rows("SELECT * FROM nowhere", ())
    assert isinstance(raised.value.__cause__, DBAPIError)  # the driver's error is kept as the cause, for the log
    with pytest.raises(StorageFailed, match="syntax error"), store.read():
        store._rows("SELEKT 1", ())
    empty = SqlStore(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"), "w")
    with pytest.raises(StorageError, match="run `firmly init` first"), empty.read():
        empty.workspace_info()


def test_a_command_leaves_no_write_ahead_log_behind(tmp_path: Path) -> None:
    assert firmly(tmp_path, "init").returncode == 0
    assert firmly(tmp_path, "rulebook", "load", str(EXAMPLE / "rulebook.yaml")).returncode == 0
    done = firmly(tmp_path, "ingest", str(EXAMPLE / "events.jsonl"), "--json")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cli.db").stat().st_size > 0
    assert not (tmp_path / "cli.db-wal").exists(), "the log was copied into the database at exit"


def test_a_command_on_a_database_that_is_not_there_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    done = firmly(tmp_path, "decisions", "--json")
    assert done.returncode == 1
    assert "firmly init" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_checkpoint_thread_ends_when_idle_and_the_next_commit_starts_another(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "IDLE_SECONDS", 0.2)
    store = _store(tmp_path)

    def checkpointers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t is _writers(store.engine)._thread]

    with store.write():
        store.set_clock(1, None)
    assert checkpointers(), "a commit starts the checkpoint thread"
    first = checkpointers()[0]
    first.join(5)
    assert not first.is_alive() and not checkpointers(), "an idle checkpoint thread ends"
    with store.write():
        store.set_clock(2, None)
    second = checkpointers()
    assert second and second[0] is not first and second[0].is_alive()
    with store.read():
        assert workspace.current(store).clock == 2
