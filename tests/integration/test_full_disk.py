"""A full disk: the command that cannot write exits 1 with a clear message, what was stored stays, and the
SQLite checkpoint thread logs one plain line (never a traceback) and keeps going."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from typer.testing import CliRunner

from firmly import bootstrap
from firmly.adapters.sql.store import SqlStore, _writers, make_engine
from firmly.doors.api import create_app
from firmly.doors.cli import DISK_FULL
from firmly.doors.cli import app as firmly_cli
from firmly.service import ingest, tokens, workspace

CLINIC = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en"


def events(path: Path, n: int, start: int = 0) -> Path:
    """`n` new clients with long names: a few hundred bytes each."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            fh.write(json.dumps({"id": f"c-{i}", "type": "counterparty.upserted", "counterparty": f"client-{i}",
                                 "occurred_at": "2026-05-01T10:00:00+00:00",
                                 "data": {"kind": "client", "name": f"Client {i} " + "x" * 200}}) + "\n")
    return path


def test_a_command_that_fills_the_database_exits_1_and_keeps_what_was_stored(tmp_path: Path) -> None:
    """SQLite's own limit on the database size (`PRAGMA max_page_count`) raises the very error a full disk
    does, SQLITE_FULL "database or disk is full", on the real engine the command uses."""
    url = f"sqlite:///{tmp_path / 'full.db'}"
    runner = CliRunner()
    for args in (["init"], ["rulebook", "load", str(CLINIC / "rulebook.yaml")],
                 ["ingest", str(events(tmp_path / "first.jsonl", 30))]):
        done = runner.invoke(firmly_cli, [*args, "--db", url, "-w", "full"])
        assert done.exit_code == 0, done.output
    engine = bootstrap.engine(url)
    with engine.connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar_one()

    @event.listens_for(engine, "connect")
    def _small_disk(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 10}")

    engine.dispose()  # the pooled connections go; new ones see the limit
    try:
        done = runner.invoke(firmly_cli, ["ingest", str(events(tmp_path / "more.jsonl", 2_000, 30)), "--db", url,
                                          "-w", "full"])
        assert done.exit_code == 1, done.output
        assert f"database error: {DISK_FULL}" in done.output
        assert ("Traceback" not in done.output and done.exception is None) or isinstance(done.exception, SystemExit)
        listed = runner.invoke(firmly_cli, ["counterparty", "list", "--json", "--db", url, "-w", "full"])
        assert listed.exit_code == 0, listed.output
        assert len(json.loads(listed.stdout)) == 30  # the batch that did not fit left nothing half-written
    finally:
        event.remove(engine, "connect", _small_disk)
        engine.dispose()


def test_an_api_request_that_fills_the_database_is_told_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'api-full.db'}"
    store = bootstrap.store(url, "full")
    workspace.init(store, "en", "Europe/London", 0)
    token = tokens.create(store, "ingest", "booking", 0).token
    engine = bootstrap.engine(url)
    with engine.connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar_one()

    @event.listens_for(engine, "connect")
    def _small_disk(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 10}")

    engine.dispose()
    batch = [json.loads(line) for line in events(tmp_path / "batch.jsonl", 1_000).read_text().splitlines()]
    try:
        with TestClient(create_app(url)) as client:
            answer = client.post("/v1/events", json=batch, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 503, answer.text
        assert "the server's disk is full: nothing of this request was stored" in answer.json()["error"]["message"]
    finally:
        event.remove(engine, "connect", _small_disk)
        engine.dispose()


@pytest.fixture
def failing_checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SqlStore, threading.Event]]:
    """A store whose checkpoint thread meets SQLite's full-disk error while `full` is set. Simulated: the
    thread's connection raises the driver's own OperationalError (a real full disk needs a small filesystem,
    which `test_a_full_filesystem_for_real` mounts where it may)."""
    store = SqlStore(make_engine(f"sqlite:///{tmp_path / 'w.db'}"), "w")
    workspace.init(store, "en", "Europe/London", 0)
    full = threading.Event()
    real: Callable[[], Any] = store.engine.raw_connection

    def raw_connection() -> Any:
        if full.is_set() and threading.current_thread().name == "firmly-checkpoints":
            raise sqlite3.OperationalError("database or disk is full")
        return real()

    monkeypatch.setattr(store.engine, "raw_connection", raw_connection)
    yield store, full
    _writers(store.engine).stop()


def _write(store: SqlStore) -> None:
    with store.write():
        store.set_clock(None, None)


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30  # the thread runs at a lower priority: a busy machine delays it
    while not condition():
        assert time.monotonic() < deadline, "the checkpoint thread did not get there"
        time.sleep(0.02)


def test_the_checkpoint_thread_logs_one_line_and_keeps_going(
        failing_checkpoints: tuple[SqlStore, threading.Event], caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str]) -> None:
    store, full = failing_checkpoints
    writers = _writers(store.engine)
    caplog.set_level(logging.WARNING, logger="firmly.store")
    full.set()
    for _ in range(5):  # every commit wakes the thread; a full disk stays full
        _write(store)
        time.sleep(0.15)
    _until(lambda: writers._failing is not None)
    said = [r for r in caplog.records if r.name == "firmly.store"]
    assert len(said) == 1, [r.getMessage() for r in said]
    assert said[0].exc_info is None and "database or disk is full" in said[0].getMessage()
    assert "nothing committed is lost" in said[0].getMessage()
    full.clear()  # space again: the next checkpoint succeeds, and a later failure is told again
    _write(store)
    _until(lambda: writers._failing is None)
    full.set()
    _write(store)
    _until(lambda: len([r for r in caplog.records if r.name == "firmly.store"]) == 2)
    assert "Traceback" not in capfd.readouterr().err
    with store.read():  # the writes all went through meanwhile
        assert store.workspace_info() is not None


def test_a_full_filesystem_for_real(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                    capfd: pytest.CaptureFixture[str]) -> None:
    """A 1 MB tmpfs (mounting needs root; elsewhere the tests above cover the same code): a batch that fits in
    the write-ahead log but not, once copied, in the database file makes the checkpoint thread meet a real
    ENOSPC; the next command cannot write at all."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True,
                             check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.decode().strip()}); "
                    "the simulated tests above cover the same code")
    url = f"sqlite:///{disk / 'f.db'}"
    store = SqlStore(make_engine(url), "full")
    try:
        workspace.init(store, "en", "Europe/London", 0)
        raw: Any = store.engine.raw_connection()
        try:  # the schema into the database file now, so the batch below has the whole log to itself
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        caplog.set_level(logging.WARNING, logger="firmly.store")
        report = ingest.ingest(store, ingest.read_file(events(tmp_path / "first.jsonl", 400)))
        assert report.stored == 400
        writers = _writers(store.engine)
        _until(lambda: writers._failing is not None)
        said = [r for r in caplog.records if r.name == "firmly.store"]
        assert len(said) == 1 and said[0].exc_info is None, [r.getMessage() for r in said]
        assert "database or disk is full" in said[0].getMessage()
        assert "Traceback" not in capfd.readouterr().err

        env = {**os.environ, "FIRMLY_DATABASE_URL": url, "FIRMLY_WORKSPACE": "full"}

        def firmly(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "firmly", *args], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=120, check=False)

        more = firmly("ingest", str(events(tmp_path / "more.jsonl", 500, 400)))
        assert more.returncode == 1, more.stdout + more.stderr
        assert DISK_FULL in more.stderr and "Traceback" not in more.stderr, more.stderr
        listed = firmly("counterparty", "list", "--json")
        assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 400
    finally:
        _writers(store.engine).stop()
        store.engine.dispose()
        subprocess.run(["umount", "-l", str(disk)], check=False)
