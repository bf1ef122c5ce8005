"""The Store port on SQLAlchemy Core, the same code for SQLite and PostgreSQL.

Over 400 lines on purpose: one class implements every narrow port on one connection, one transaction and one
dialect switch; split per port, each part would repeat the transaction and the SQLite/PostgreSQL branches."""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy import Engine, Table, and_, bindparam, create_engine, event, func, select, text, tuple_, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from firmly import redact
from firmly.adapters.sql.connectors import Connectors
from firmly.adapters.sql.errors import NOT_INITIALISED, domain_errors
from firmly.adapters.sql.logins import Logins
from firmly.adapters.sql.tables import (
    OPEN_DECISIONS,
    OPEN_STATUSES,
    arrivals,
    counterparties,
    decisions,
    events,
    outbox,
    postings,
    rulebooks,
    tokens,
    workspace_settings,
    workspaces,
)
from firmly.domain.buckets import bucket_of
from firmly.domain.engine.state import CounterpartyState, decode_state, encode_state
from firmly.domain.errors import StorageError
from firmly.domain.events import Event
from firmly.domain.ledger import Posting
from firmly.domain.ports import CounterpartyRow, OutboxRow, StoredRulebook, TokenRow, WorkspaceInfo
from firmly.domain.tone import Tone

log = logging.getLogger("firmly.store")
_json = msgspec.json.Encoder()
_unjson = msgspec.json.Decoder()
_CHUNK = 500  # ids per IN (...) query: well under SQLite's variable limit
IDLE_SECONDS = 30.0  # a checkpoint thread with no commit to follow for this long ends; the next commit starts one
_ADDED: dict[tuple[int, str], int] = {}  # rows added since the last ANALYZE, by database and tables
_SOURCES: dict[str, str] = {}  # rulebook sources by their SHA-256: read once per process, not per request


_EVENT_COLUMNS = (events.c.id, events.c.type, events.c.counterparty, events.c.occurred_at, events.c.at, events.c.data,
                  events.c.digest, events.c.seq, events.c.partner, events.c.tone)
_tones = msgspec.json.Decoder(Tone)
_DECISION_KEYS = tuple(c.name for c in decisions.columns if c.name != "workspace")
_DECISION_NAMES = ", ".join(f'"{name}"' for name in _DECISION_KEYS)


# The workspace as deciding sees it: `decided` is the first waiting event's arrival number (every one before it is
# decided), `waiting` how many wait; both off the index of arrivals, which deciders shrink without touching this row.
# Counting them walks every waiting event's row: only where the number is told (or bounded), else whether any do.
_WORKSPACE = ("SELECT id, locale, timezone, clock, ticked, next_seq, "
              "COALESCE((SELECT MIN(seq) FROM arrivals a WHERE a.workspace = w.id), next_seq), {waiting} "
              "FROM workspaces w WHERE id = ?")
_WORKSPACE_COUNTED = _WORKSPACE.format(waiting="(SELECT COUNT(*) FROM arrivals a WHERE a.workspace = w.id)")
_WORKSPACE_INFO = _WORKSPACE.format(
    waiting="CASE WHEN EXISTS (SELECT 1 FROM arrivals a WHERE a.workspace = w.id) THEN 1 ELSE 0 END")
# The workspace every transaction on PostgreSQL names for row-level security (migration 0014_row_security),
# set with its advisory lock in one statement when it writes: a workspace's writers queue on that lock.
# Straight to the driver: through SQLAlchemy this statement cost as much again as its round trip.
_READ_BEGINS = "SELECT set_config('firmly.workspace', ?, true)"
_WRITE_BEGINS = "SELECT set_config('firmly.workspace', ?, true), pg_advisory_xact_lock(hashtext(?))"
# A decider shares the workspace with the other deciders and appends (each takes its buckets, `claim_buckets`);
# a writer of the whole workspace (a read settling, a tick, a person's act) waits for them, and they for it.
_SHARED_BEGINS = "SELECT set_config('firmly.workspace', ?, true), pg_advisory_xact_lock_shared(hashtext(?))"


@contextmanager
def _driver(engine: Engine, sql: str) -> Iterator[None]:
    """A driver's own error, from a statement sent past SQLAlchemy, as SQLAlchemy would have raised it: the
    command line and the API turn those into a clear message, never a traceback."""
    base: Any = engine.dialect.loaded_dbapi.Error
    try:
        yield
    except base as exc:
        raise DBAPIError.instance(sql, None, exc, base) from None


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # No server-side prepared statements: their generic plans, made while a table is still empty,
    # keep scanning it sequentially once it holds millions of rows.
    options: dict[str, Any] = {"connect_args": {"prepare_threshold": None}} if "+psycopg" in url else {}
    try:
        # hide_parameters: a failed statement's message (shown, logged) never carries the values it was sent
        engine = create_engine(url, hide_parameters=True, **options)
    except Exception as exc:  # SQLAlchemy raises several kinds for a malformed URL
        raise StorageError(f"FIRMLY_DATABASE_URL is not a usable database URL: {redact.url(url)!r} "
                           f"({redact.text(str(exc))})") from None
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun explicitly below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-262144")  # up to 256 MiB of pages: big batches update indexes in memory
        # Checkpoints run from the Checkpoints thread below, off the commit; SQLite's own only if that falls behind
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.execute("PRAGMA journal_size_limit=67108864")  # a WAL that grew in a burst shrinks back to 64 MiB
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # One writer at a time: take the write lock at the start, not halfway through. Straight to the driver:
        # through SQLAlchemy's statement execution this cost half of a small read's time.
        raw: Any = conn.connection.driver_connection
        sql = "BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN"
        with _driver(engine, sql):  # "database is locked" after the busy timeout comes from here
            raw.execute(sql)


class Writers:
    """SQLite's one writer at a time, per database file, and the checkpoints after it.

    Writers queue on a lock of this process and then on a lock file beside the database (`flock`, which the
    kernel hands to a waiting writer as soon as the last one is done) rather than on SQLite's busy handler,
    which polls with sleeps of up to 100 ms: those made the tail latency of concurrent requests, within one
    server process and across its workers. (Polling the lock file every few milliseconds instead let one
    process's writer take it again and again while the other's waited: a p99 of 84-109 ms at 500 events/s
    over two processes.) A writer waits as long as the one before it writes; a process that dies lets go.

    SQLite copies its write-ahead log back into the database file inside the commit that takes the log past
    1,000 pages, so that writer waits for the copy and its sync (half the commit time of a batch of 1,000
    events). Here a commit only wakes a thread that checkpoints PASSIVE (never blocking readers or the next
    writer) on its own connection, at most ten times a second, while the next transaction is being written.
    SQLite's own checkpoint stays as a backstop at 10,000 pages (40 MB), should the thread fall behind."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.Lock()
        path = engine.url.database
        self._file: int | None = None
        if path and path != ":memory:" and not path.startswith("file:"):
            try:
                self._file = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:  # a read-only directory: the busy handler still keeps writers apart
                self._file = None
        self._due = threading.Event()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()  # the thread starts and ends under it: a wake-up is never lost
        self._stopping = False
        self._registered = False
        self._failing: str | None = None  # why the last checkpoint failed, told once until one succeeds

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._local:
            if self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_EX)  # the kernel wakes the next writer when this one is done
            try:
                yield
            finally:
                if self._file is not None:
                    fcntl.flock(self._file, fcntl.LOCK_UN)
        self._checkpoint_soon()

    def _checkpoint_soon(self) -> None:
        with self._starting:
            if self._thread is None:
                self._thread = threading.Thread(target=self._checkpoints, name=CHECKPOINT_THREAD, daemon=True)
                self._thread.start()
                if not self._registered:
                    atexit.register(self.stop)
                    self._registered = True
            self._due.set()

    def stop(self) -> None:
        """Let a checkpoint under way finish and stop the thread (at exit: then the last connection to close
        copies what is left of the log into the database, and removes it)."""
        self._stopping = True
        self._due.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=60)

    def _checkpoints(self) -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # Linux: this thread only, after requests
        while True:
            if not self._due.wait(IDLE_SECONDS):
                with self._starting:  # idle: end, so that engines no longer written to keep no thread
                    if not self._due.is_set():
                        self._thread = None
                        return
            self._due.clear()
            if self._stopping:
                return
            try:
                with CHECKPOINTING:
                    raw = self.engine.raw_connection()
                    try:
                        raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
                    finally:
                        raw.close()
            except Exception as exc:  # a full disk, a lost file: the next commit wakes it again
                self._failed(exc)
            else:
                self._failing = None
            time.sleep(0.1)

    def _failed(self, exc: Exception) -> None:
        """One plain line per new reason, never a traceback: the write-ahead log keeps every committed change
        meanwhile, and the command or request that cannot write says so itself."""
        reason = str(getattr(exc, "orig", None) or exc)
        if reason != self._failing:
            self._failing = reason
            log.warning("firmly: could not copy the write-ahead log into %s (%s); nothing committed is lost, "
                        "it is tried again after the next write", self.engine.url.database, reason)


# Held by a checkpoint thread while it is inside SQLite, and by a thread that forks (os.fork) while it forks: a
# child must not inherit one of SQLite's own mutexes locked by a thread that does not exist in it (a split replay
# forks children that open the database anew; one that did hung in its first statement).
CHECKPOINTING = threading.Lock()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=CHECKPOINTING.acquire, after_in_parent=CHECKPOINTING.release,
                        after_in_child=CHECKPOINTING.release)
CHECKPOINT_THREAD = "firmly-checkpoints"

_WRITERS: dict[int, Writers] = {}
_WRITERS_LOCK = threading.Lock()


def _writers(engine: Engine) -> Writers:
    found = _WRITERS.get(id(engine))
    if found is None:
        with _WRITERS_LOCK:
            found = _WRITERS.setdefault(id(engine), Writers(engine))
    return found


class SqlStore(Logins, Connectors):  # logins and sessions: sql/logins.py; connectors: sql/connectors.py
    def __init__(self, engine: Engine, workspace: str) -> None:
        self.engine = engine
        self.workspace = workspace
        self.dialect = engine.dialect.name
        self.database: object = engine
        self.parallel_workspaces = self.dialect == "postgresql"  # an advisory lock per workspace (see _connect)
        self._conn: Connection | None = None

    def another_process(self) -> SqlStore | None:
        """In a child forked from this process: the same workspace on connections of the child's own (a new
        engine: the parent's pool, its connections and their locks stay the parent's). None while another thread
        of this process may be inside SQLite or a driver (a server's, a test's): a child forked then could inherit
        one of their locks held, and wait on it for ever. Checkpoint threads hold CHECKPOINTING, which a fork
        takes first."""
        if any(t is not threading.main_thread() and t.name != CHECKPOINT_THREAD for t in threading.enumerate()):
            return None
        return SqlStore(make_engine(self.engine.url.render_as_string(hide_password=False)), self.workspace)

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[None]:
        with self._connect(write=True):
            yield

    @contextmanager
    def deciding(self) -> Iterator[None]:
        with self._connect(write=True, shared=True):
            yield

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._connect(write=False):
            yield

    @contextmanager
    def _connect(self, write: bool, shared: bool = False) -> Iterator[None]:
        if self._conn is not None:
            yield
            return
        with _writers(self.engine).turn() if write and self.dialect == "sqlite" else nullcontext():
            try:
                conn = self.engine.connect()
            except OperationalError as exc:
                raise StorageError(f"cannot open the database: {exc.orig}") from None
            conn.info["write"] = write
            try:
                with domain_errors(), conn.begin():
                    self._conn = conn
                    if self.dialect == "postgresql":  # row-level security admits this workspace's rows only
                        ws = self.workspace  # (the worker's claims, of no workspace, take no workspace's lock)
                        if write and ws:
                            self._run(_SHARED_BEGINS if shared else _WRITE_BEGINS, (ws, ws))
                        else:
                            self._run(_READ_BEGINS, (ws,))
                    yield
            finally:
                self._conn = None
                conn.close()

    @contextmanager
    def _through(self, path: str) -> Iterator[None]:
        """The statements inside span workspaces by one of the narrow ways row-level security leaves open on
        PostgreSQL (named and listed in migration 0014_row_security); SQLite has no row-level security."""
        if self.dialect != "postgresql":
            yield
            return
        self._run("SELECT set_config('firmly.through', ?, true)", (path,))
        yield  # an error inside ends the transaction, and the setting with it (a reset would hide the error)
        self._run("SELECT set_config('firmly.through', '', true)", ())

    @property
    def c(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("store used outside a transaction")
        return self._conn

    def _marked(self, sql: str) -> str:
        """SQL written with `?` marks, in the driver's own style."""
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """A query of the hot paths straight to the driver, written with `?` marks. Building and compiling a
        SQLAlchemy statement for each request cost more than SQLite's own work."""
        raw: Any = self.c.connection.driver_connection
        with _driver(self.engine, sql):
            return list(raw.execute(self._marked(sql), params).fetchall())

    def _run(self, sql: str, params: Sequence[Any]) -> None:
        """A statement of the hot paths that returns no rows, as `_rows`."""
        raw: Any = self.c.connection.driver_connection
        with _driver(self.engine, sql):
            raw.execute(self._marked(sql), params)

    def ping(self) -> None:
        """Raises unless the database answers."""
        with domain_errors(), self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def decision_counts(self) -> list[tuple[str, str, str, int]]:
        with self.read(), self._through("metrics"):  # every workspace's tallies
            rows = self.c.execute(select(decisions.c.workspace, decisions.c.action, decisions.c.status, func.count())
                                  .group_by(decisions.c.workspace, decisions.c.action, decisions.c.status)
                                  .order_by(decisions.c.workspace, decisions.c.action, decisions.c.status))
            return [(w, a, s, n) for w, a, s, n in rows]

    def migrate(self) -> None:
        from firmly.adapters.sql import migrate  # noqa: PLC0415 (Alembic only here: other commands start quicker)

        with domain_errors(), self.engine.connect() as conn:
            conn.info["write"] = True
            migrate.upgrade(conn)
            conn.commit()

    # -- workspace ------------------------------------------------------------------------------
    def ensure_workspace(self, locale: str | None, timezone: str | None, now: int) -> WorkspaceInfo:
        info = self.workspace_info()
        if info is None:
            self.c.execute(workspaces.insert().values(
                id=self.workspace, locale=locale or "ru", timezone=timezone or "Europe/Moscow",
                clock=None, ticked=None, next_seq=1, created_at=now))
        elif locale or timezone:
            self.c.execute(update(workspaces).where(workspaces.c.id == self.workspace)
                           .values(locale=locale or info.locale, timezone=timezone or info.timezone))
        result = self.workspace_info()
        assert result is not None
        return result

    def workspace_info(self, count: bool = False) -> WorkspaceInfo | None:
        try:
            rows = self._rows(_WORKSPACE_COUNTED if count else _WORKSPACE_INFO, (self.workspace,))
        except Exception as exc:  # sqlite3's OperationalError, psycopg's UndefinedTable
            if "does not exist" in str(exc) or "no such table" in str(exc):
                raise StorageError(NOT_INITIALISED) from None
            raise
        return WorkspaceInfo(*rows[0]) if rows else None

    def set_clock(self, clock: int | None, ticked: int | None) -> None:
        self._run("UPDATE workspaces SET clock = ?, ticked = ? WHERE id = ?", (clock, ticked, self.workspace))

    def raise_clock(self, clock: int, ticked: int | None = None) -> None:
        raised = "clock = CASE WHEN clock IS NULL OR clock < ? THEN ? ELSE clock END"
        if ticked is None:
            self._run(f"UPDATE workspaces SET {raised} WHERE id = ?", (clock, clock, self.workspace))
        else:
            self._run(f"UPDATE workspaces SET {raised}, ticked = CASE WHEN ticked IS NULL OR ticked < ? THEN ? "
                      "ELSE ticked END WHERE id = ?", (clock, clock, ticked, ticked, self.workspace))

    # -- rulebooks ------------------------------------------------------------------------------
    def rulebooks(self) -> list[StoredRulebook]:
        """Every stored version, oldest first. Sources are kept by their hash once read: every request needs
        the rulebooks, and their YAML is most of what they weigh."""
        rows = self._rows("SELECT id, version, hash, loaded_at, effective_from, loaded_by FROM rulebooks "
                          "WHERE workspace = ? "
                          "ORDER BY seq", (self.workspace,))
        sources = {r[2]: _SOURCES.get(r[2]) for r in rows}  # a local copy: another thread may clear the cache
        missing = sorted(h for h, source in sources.items() if source is None)
        if missing:
            marks = ", ".join("?" for _ in missing)
            fetched = dict(self._rows(f"SELECT hash, source FROM rulebooks WHERE workspace = ? AND hash IN ({marks})",
                                      (self.workspace, *missing)))
            sources.update(fetched)
            if len(_SOURCES) > 1_000:
                _SOURCES.clear()
            _SOURCES.update(fetched)
        return [StoredRulebook(r[0], r[1], r[2], str(sources[r[2]]), r[3], r[4], r[5]) for r in rows]

    def add_rulebook(self, book: StoredRulebook) -> None:
        seq = self.c.execute(select(func.count()).select_from(rulebooks)
                             .where(rulebooks.c.workspace == self.workspace)).scalar_one()
        self.c.execute(rulebooks.insert().values(
            workspace=self.workspace, id=book.id, version=book.version, hash=book.hash, source=book.source,
            loaded_at=book.loaded_at, effective_from=book.effective_from, seq=seq + 1, loaded_by=book.loaded_by))

    # -- events ---------------------------------------------------------------------------------
    def digests(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = list(ids)
        found = dict(self._by_ids("SELECT id, digest FROM events WHERE workspace = ? AND id", wanted))
        rest = [i for i in wanted if i not in found]  # acknowledged ones waiting to be decided count too
        if rest:
            found.update(self._by_ids("SELECT id, digest FROM arrivals WHERE workspace = ? AND id", rest))
        return found

    def _by_ids(self, sql: str, wanted: list[str], types: list[str] | None = None) -> list[Any]:
        """`sql` ends with a column that must be one of `wanted` (and, given `types`, the event's type one of
        those): PostgreSQL takes them as one array, SQLite in slices under its variable limit."""
        if self.dialect == "postgresql":
            if types is None:
                return self._rows(sql + " = ANY(?)", (self.workspace, wanted))
            return self._rows(sql + ' = ANY(?) AND "type" = ANY(?)', (self.workspace, wanted, types))
        found: list[Any] = []
        typed = "" if types is None else f' AND "type" IN ({", ".join("?" for _ in types)})'
        for i in range(0, len(wanted), _CHUNK):
            part = wanted[i:i + _CHUNK]
            found.extend(self._rows(f"{sql} IN ({', '.join('?' for _ in part)}){typed}",
                                    (self.workspace, *part, *(types or ()))))
        return found

    def _by_keys(self, sql: str, wanted: list[str], types: list[str] | None = None, rows: bool = True) -> list[Any]:
        """As `_by_ids`, for a column whose index leads with the workspace and the key: PostgreSQL gets one
        statement per key, all in one round trip (a pipeline), since with `= ANY` it may plan a search of the
        workspace's whole index filtered by the keys; SQLite searches the index for each of an IN list."""
        if not wanted:
            return []
        if self.dialect != "postgresql" or len(wanted) < 2:
            if rows:
                return self._by_ids(sql, wanted, types)
            marks = ", ".join("?" for _ in wanted)
            self._run(f"{sql} IN ({marks})" if wanted else sql, (self.workspace, *wanted))
            return []
        raw: Any = self.c.connection.driver_connection
        statement = self._marked(sql + " = ?" + ("" if types is None else ' AND "type" = ANY(?)'))
        more = () if types is None else (types,)
        with _driver(self.engine, sql), raw.pipeline():
            cursors = [raw.execute(statement, (self.workspace, key, *more)) for key in wanted]
        return [r for cursor in cursors for r in cursor.fetchall()] if rows else []

    def append_events(self, new: list[Event]) -> None:
        if not new:
            return
        seq, waiting = self._rows("SELECT next_seq, EXISTS (SELECT 1 FROM arrivals WHERE workspace = ?) "
                                  "FROM workspaces WHERE id = ?", (self.workspace, self.workspace))[0]
        if waiting:
            raise RuntimeError(f"events of workspace {self.workspace!r} wait to be decided: they are decided "
                               "before any event stored after them")
        for ev in new:
            ev.seq = seq
            seq += 1
        self._log(new)
        self._run("UPDATE workspaces SET next_seq = ? WHERE id = ?", (seq, self.workspace))

    def _log(self, new: list[Event]) -> None:
        """Events with their seq into the log."""
        ws = self.workspace
        encode = _json.encode
        self._bulk(events, [(ws, ev.seq, ev.id, ev.type, ev.counterparty, ev.partner, ev.occurred_at, ev.at,
                             encode(ev.data).decode(), ev.digest,
                             None if ev.tone is None else encode(ev.tone).decode()) for ev in new])
        if self.dialect == "postgresql":
            self._keep_statistics(len(new), new[-1].seq)

    def stage_events(self, new: list[Event], arrived: int) -> None:
        if not new:
            return
        # Numbers taken by one statement: appends sharing the workspace (`deciding`) each get their own, in the
        # order they commit (the row stays locked until then), so arrival order is commit order
        seq = self._rows("UPDATE workspaces SET next_seq = next_seq + ? WHERE id = ? RETURNING next_seq",
                         (len(new), self.workspace))[0][0] - len(new)
        batch = seq
        ws = self.workspace
        encode = _json.encode
        rows = []
        for ev in new:
            ev.seq = seq
            seq += 1
            rows.append((ws, ev.seq, ev.id, ev.type, ev.counterparty, ev.partner, ev.occurred_at, ev.at,
                         encode(ev.data).decode(), ev.digest, None if ev.tone is None else encode(ev.tone).decode(),
                         batch, arrived, bucket_of(ev.counterparty)))
        self._bulk(arrivals, rows)
        if self.dialect == "postgresql":
            self._keep_statistics(len(new), seq, "arrivals")

    def staged_events(self, limit: int, buckets: Collection[int] | None = None) -> list[tuple[Event, int, int]]:
        rows = self._waiting('id, "type", counterparty, occurred_at, "at", data, digest, seq, partner, tone, batch, '
                             "arrived_at", limit, buckets)
        return [(event, r[10], r[11]) for event, r in zip(self._rows_to_events(rows), rows, strict=True)]

    def waiting_buckets(self, limit: int, buckets: Collection[int] | None = None) -> set[int]:
        return {r[0] for r in self._waiting("bucket", limit, buckets)}

    def waiting_among(self, seqs: Collection[int]) -> set[int]:
        if not seqs:
            return set()
        wanted = set(seqs)  # a request's own arrival numbers are consecutive: one range, read by the primary key
        rows = self._rows("SELECT seq FROM arrivals WHERE workspace = ? AND seq BETWEEN ? AND ?",
                          (self.workspace, min(wanted), max(wanted)))
        return {r[0] for r in rows if r[0] in wanted}

    def _waiting(self, columns: str, limit: int, buckets: Collection[int] | None) -> list[Any]:
        """These columns of the oldest `limit` waiting events (of these buckets, if given)."""
        sql, params = f"SELECT {columns} FROM arrivals WHERE workspace = ?", tuple[Any, ...]((self.workspace,))
        if buckets is not None and self.dialect == "postgresql":
            sql, params = sql + " AND bucket = ANY(?)", (*params, list(buckets))
        elif buckets is not None:
            sql, params = sql + f" AND bucket IN ({', '.join('?' for _ in buckets)})", (*params, *buckets)
        return self._rows(sql + " ORDER BY seq LIMIT ?", (*params, limit))

    def admit_events(self, new: list[Event]) -> None:
        if not new:
            return
        seqs = [ev.seq for ev in new]
        inside = self.dialect == "postgresql"  # moved inside the database: the rows are not sent back to it
        if inside:
            moved = self._rows(_ADMIT, (self.workspace, min(seqs), max(seqs), seqs, seqs,
                                        [ev.partner for ev in new]))[0][0]
        else:
            moved = 0
            for i in range(0, len(seqs), _CHUNK):
                part = seqs[i:i + _CHUNK]
                marks = ", ".join("?" for _ in part)
                moved += len(self._rows(f"DELETE FROM arrivals WHERE workspace = ? AND seq IN ({marks}) RETURNING seq",
                                        (self.workspace, *part)))
        if moved != len(new):  # another process decided them: deciding them again would double them
            raise RuntimeError(f"of events {seqs[0]}-{seqs[-1]}, {len(new) - moved} wait no longer")
        if inside:
            self._keep_statistics(len(new), new[-1].seq)
        else:
            self._log(new)

    def _keep_statistics(self, added: int, total: int, tables: str = "events, counterparties, decisions, postings",
                         ) -> None:
        """PostgreSQL plans by statistics; a big ingest into a fresh table (or a server without
        autovacuum) would otherwise scan the whole table for every lookup by id (or, for the waiting events,
        for every chunk decided). Counted per process, database and tables: a server's stores come and go. Again
        each time the log has doubled: the planner scales the row counts it knows by the pages a table has now, so
        statistics a little old plan as well, and at a million events each ANALYZE cost about a second of the
        database's time (at every fifth more, a seventh of deciding a backlog went to it)."""
        key = (id(self.engine), tables)
        _ADDED[key] = _ADDED.get(key, 0) + added
        if _ADDED[key] >= max(5_000, total // 2):
            self.c.exec_driver_sql(f"ANALYZE {tables}")
            _ADDED[key] = 0

    def _rows_to_events(self, rows: Iterable[Any]) -> Iterator[Event]:
        """Events from rows whose columns come in the order of _EVENT_COLUMNS."""
        decode = _unjson.decode
        for r in rows:
            yield Event(id=r[0], type=r[1], counterparty=r[2], occurred_at=r[3], at=r[4], data=decode(r[5]),
                        digest=r[6], seq=r[7], partner=r[8], tone=None if r[9] is None else _tones.decode(r[9]))

    def _stream(self, sql: str, batch: int, more: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of one query over this workspace (its first `?` mark), straight from the driver a batch at a
        time: a replay reads millions of rows."""
        cursor = self.c.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with _driver(self.engine, sql):
                cursor.execute(self._marked(sql), (self.workspace, *more))
                rows = cursor.fetchmany(batch)
            while rows:
                yield from rows
                with _driver(self.engine, sql):
                    rows = cursor.fetchmany(batch)
        finally:
            cursor.close()

    def events_about(self, keys: Iterable[str], types: Collection[str] | None = None) -> list[Event]:
        """The events about these counterparties (or of these types only), oldest first. One index search for
        the counterparty and one for the partner: a single query with `counterparty IN (...) OR partner IN
        (...)` read every event of the workspace on SQLite, and a late event refolds through here."""
        wanted = list(keys)
        kinds = sorted(types) if types is not None else None
        if not wanted or kinds == []:
            return []
        names = ", ".join(f'"{c.name}"' for c in _EVENT_COLUMNS)
        out: dict[int, Event] = {}
        for column in ("counterparty", "partner"):
            sql = f"SELECT {names} FROM events WHERE workspace = ? AND {column}"
            out.update((ev.seq, ev) for ev in self._rows_to_events(self._by_keys(sql, wanted, kinds)))
        return sorted(out.values(), key=lambda e: (e.at, e.seq))

    def all_events(self, keep: Callable[[str, str | None], bool] | None = None) -> Iterator[Event]:
        names = ", ".join(f'"{c.name}"' for c in _EVENT_COLUMNS)
        # (SQLite narrowing the rows to a part's by a function of ours was slower than `keep` here)
        rows = self._stream(f'SELECT {names} FROM events WHERE workspace = ? ORDER BY "at", seq', 20_000)
        if keep is not None:  # asked of each row before its data is decoded: a part of a split replay
            rows = (r for r in rows if keep(r[2], r[8]))
        yield from self._rows_to_events(rows)

    def has_events_from(self, at: int) -> bool:
        return bool(self._rows('SELECT 1 FROM events WHERE workspace = ? AND "at" >= ? LIMIT 1', (self.workspace, at)))

    def set_tones(self, found: list[Event]) -> None:
        """Renew the stored tone of these events (a replay under a changed lexicon)."""
        encode = _json.encode
        for i in range(0, len(found), 5_000):
            self.c.execute(update(events).where(and_(events.c.workspace == self.workspace,
                                                     events.c.id == bindparam("eid"))).values(tone=bindparam("t")),
                           [{"eid": ev.id, "t": None if ev.tone is None else encode(ev.tone).decode()}
                            for ev in found[i:i + 5_000]])

    def events_of_type(self, kind: str) -> list[Event]:
        rows = self.c.execute(select(*_EVENT_COLUMNS).where(and_(events.c.workspace == self.workspace,
                                                                 events.c.type == kind))
                              .order_by(events.c.at, events.c.seq))
        return list(self._rows_to_events(rows))

    # -- derived state --------------------------------------------------------------------------
    def load_states(self, keys: Iterable[str]) -> dict[str, CounterpartyState]:
        rows = self._by_ids('SELECT "key", state FROM counterparties WHERE workspace = ? AND "key"', list(keys))
        return {r[0]: decode_state(r[1]) for r in rows}

    def save_states(self, states: Iterable[CounterpartyState], now: int) -> None:
        ws = self.workspace
        rows = [(ws, st.key, st.kind, st.name, st.tier, st.status(now), st.next_wake(), encode_state(st))
                for st in states]
        if rows:
            self._bulk(counterparties, rows, ("workspace", "key"))

    def states_due(self, until: int) -> list[str]:
        rows = self.c.execute(select(counterparties.c.key).where(and_(
            counterparties.c.workspace == self.workspace, counterparties.c.next_wake <= until)))
        return [r.key for r in rows]

    def counterparties(self, kind: str | None = None, status: str | None = None) -> list[CounterpartyRow]:
        query = select(counterparties.c.key, counterparties.c.kind, counterparties.c.name, counterparties.c.tier,
                       counterparties.c.status).where(counterparties.c.workspace == self.workspace)
        if kind:
            query = query.where(counterparties.c.kind == kind)
        if status:
            query = query.where(counterparties.c.status == status)
        return [CounterpartyRow(r.key, r.kind, r.name, r.tier, r.status)
                for r in self.c.execute(query.order_by(counterparties.c.key))]

    # -- decisions ------------------------------------------------------------------------------
    def put_decisions(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            ws = self.workspace
            encode = _json.encode
            self._bulk(decisions, [
                (ws, r["id"], r["counterparty"], r["rule"], r["at"], r["n"], r["action"], r["status"], r["amount"],
                 r["currency"], r["event"], encode(r["evidence"]).decode(), r["step"], r["version"],
                 r["explanation"], encode(r.get("params") or {}).decode()) for r in rows], ("workspace", "id"))

    def decisions(self, counterparty: str | None = None, rule: str | None = None, status: str | None = None,
                  ids: Iterable[str] | None = None, action: str | None = None) -> list[dict[str, Any]]:
        """Straight to the driver: a late event's refold reads its counterparty's decisions, and building the
        statement with SQLAlchemy cost more than the database's index search."""
        if ids is not None:
            wanted = list(ids)
            if len(wanted) > _CHUNK:  # keep each query's IN list small; the rows are merged in order below
                found = [r for i in range(0, len(wanted), _CHUNK)
                         for r in self.decisions(counterparty, rule, status, wanted[i:i + _CHUNK], action)]
                return sorted(found, key=lambda r: (r["at"], r["counterparty"], r["n"]))
        where: list[str] = ["workspace = ?"]
        params: list[Any] = [self.workspace]
        for column, value in (("action", action), ("counterparty", counterparty), ("rule", rule), ("status", status)):
            if value is not None:
                where.append(f'"{column}" = ?')
                params.append(value)
        if status in OPEN_STATUSES:  # so that both databases search the index of open decisions
            where.append(OPEN_DECISIONS)
        if ids is not None:
            if self.dialect == "postgresql":
                where.append("id = ANY(?)")
                params.append(wanted)
            else:
                where.append(f"id IN ({', '.join('?' for _ in wanted)})")
                params.extend(wanted)
        rows = self._rows(f'SELECT {_DECISION_NAMES} FROM decisions WHERE {" AND ".join(where)} '
                          'ORDER BY "at", counterparty, n', params)
        decode = _unjson.decode
        out = []
        for r in rows:
            row = dict(zip(_DECISION_KEYS, r, strict=True))
            row["evidence"] = decode(row["evidence"])
            row["params"] = decode(row["params"])
            out.append(row)
        return out

    def decision_tally(self, leave_out: frozenset[str], since: int | None, until: int | None
                       ) -> Counter[tuple[str, str]]:
        query = (select(decisions.c.counterparty, decisions.c.action, func.count())
                 .where(decisions.c.workspace == self.workspace, decisions.c.status.not_in(sorted(leave_out)))
                 .group_by(decisions.c.counterparty, decisions.c.action))
        if since is not None:
            query = query.where(decisions.c.at >= since)
        if until is not None:
            query = query.where(decisions.c.at <= until)
        return Counter({(r[0], r[1]): r[2] for r in self.c.execute(query)})

    def decision_facts(self, counterparties: Collection[str] | None = None,
                       keep: Callable[[str], bool] | None = None, texts: bool = False
                       ) -> dict[str, tuple[Any, ...]]:
        decode = _unjson.decode
        sql = ('SELECT id, counterparty, rule, "at", n, action, status, amount, currency, event, evidence, step, '
               "version, params FROM decisions WHERE workspace = ?")
        in_sql = keep is not None and self.dialect == "sqlite"
        if in_sql:  # a part of a split fold: only its rows leave SQLite
            raw: Any = self.c.connection.driver_connection
            raw.create_function("firmly_keeps", 1, keep, deterministic=True)
            sql += " AND firmly_keeps(counterparty)"
        if counterparties is None:
            rows: Iterable[Any] = self._stream(sql, 50_000)
        else:  # late events' refolds: what they compare their decisions with, by the index, in one search
            rows = self._by_keys(sql + " AND counterparty", list(counterparties))
        if keep is not None and not in_sql:  # a part of a split replay: the other parts' rows are not decoded
            rows = (r for r in rows if keep(r[1]))
        if texts:  # evidence and params as stored: a replay compares the text first (decoding cost the most)
            return {r[0]: r[1:] for r in rows}
        return {r[0]: (*r[1:10], tuple(decode(r[10])), r[11], r[12], decode(r[13])) for r in rows}

    # -- the ledger -----------------------------------------------------------------------------
    def states(self, kind: str | None = None) -> Iterator[CounterpartyState]:
        if kind is None:
            rows = self._stream("SELECT state FROM counterparties WHERE workspace = ?", 20_000)
        else:
            rows = self._stream("SELECT state FROM counterparties WHERE workspace = ? AND kind = ?",
                                20_000, (kind,))
        for row in rows:
            yield decode_state(row[0])

    def put_postings(self, new: list[Posting]) -> None:
        if new:
            ws = self.workspace
            self._bulk(postings, [(ws, p.id, p.counterparty, p.at, p.n, p.debit, p.credit, str(p.amount), p.currency,
                                   p.event, p.decision, p.service, p.memo) for p in new], ("workspace", "id"))

    def drop_postings(self, counterparties: Collection[str] | None = None) -> None:
        sql = "DELETE FROM postings WHERE workspace = ?"
        if counterparties is None:
            self._run(sql, (self.workspace,))
            return
        wanted = list(counterparties)  # late events' refolds post their counterparties' ledgers anew
        for i in range(0, len(wanted), _CHUNK):
            self._by_keys(sql + " AND counterparty", wanted[i:i + _CHUNK], rows=False)

    def postings(self, counterparty: str) -> list[Posting]:
        rows = self.c.execute(select(postings).where(and_(postings.c.workspace == self.workspace,
                                                          postings.c.counterparty == counterparty))
                              .order_by(postings.c.at, postings.c.n))
        return [Posting(r.id, r.counterparty, r.at, r.n, r.debit, r.credit, Decimal(r.amount), r.currency, r.event,
                        r.decision, r.service, r.memo) for r in rows]

    # -- API tokens -----------------------------------------------------------------------------
    def add_token(self, token: TokenRow) -> None:
        self.c.execute(tokens.insert().values(id=token.id, workspace=self.workspace, role=token.role, name=token.name,
                                              hash=token.hash, created_at=token.created_at, revoked_at=None))

    def tokens(self) -> list[TokenRow]:
        rows = self.c.execute(select(tokens).where(tokens.c.workspace == self.workspace)
                              .order_by(tokens.c.created_at.desc(), tokens.c.id))
        return [TokenRow(r.id, r.workspace, r.role, r.name, r.hash, r.created_at, r.revoked_at) for r in rows]

    def revoke_token(self, token_id: str, at: int) -> bool:
        done = self.c.execute(update(tokens).where(and_(tokens.c.workspace == self.workspace, tokens.c.id == token_id,
                                                         tokens.c.revoked_at.is_(None))).values(revoked_at=at))
        return bool(done.rowcount)

    def find_token(self, token_id: str) -> TokenRow | None:
        with self._through("tokens"):  # a request's token names its workspace
            r = self.c.execute(select(tokens).where(tokens.c.id == token_id)).first()
        return None if r is None else TokenRow(r.id, r.workspace, r.role, r.name, r.hash, r.created_at, r.revoked_at)

    # -- the outbox and workspace settings ----------------------------------------------------------
    def put_outbox(self, rows: list[OutboxRow]) -> int:
        if not rows:
            return 0
        ws = self.workspace
        values = [(ws, r.id, r.decision, r.counterparty, r.channel, r.recipient, r.subject, r.body, r.attachment,
                   r.status, r.attempts, r.next_at, r.created_at, r.sent_at, r.error, None, r.sender, r.sender_name,
                   r.note) for r in rows]
        names = ", ".join(f'"{c.name}"' for c in outbox.columns)
        marks = ", ".join("?" for _ in outbox.columns)
        done = self.c.exec_driver_sql(self._marked(
            f"INSERT INTO outbox ({names}) VALUES ({marks}) ON CONFLICT (workspace, id) DO NOTHING"), values)
        return int(done.rowcount or 0)

    def claim_outbox(self, now: int, limit: int, lease_until: int, claim: str) -> list[OutboxRow]:
        due = and_(outbox.c.status.in_(("pending", "sending")), outbox.c.next_at <= now)
        pick = select(outbox.c.workspace, outbox.c.id).where(due).order_by(outbox.c.next_at).limit(limit)
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)  # two workers never take the same message
        with self._through("outbox"):  # the worker sends every workspace's messages
            order = {(r[0], r[1]): n for n, r in enumerate(self.c.execute(pick))}
            if not order:
                return []
            # The picked rows in one statement (a statement per message cost as much as sending it), sent in
            # the order they fell due
            claimed = [_outbox_row(r) for r in self.c.execute(
                update(outbox).where(and_(tuple_(outbox.c.workspace, outbox.c.id).in_(list(order)), due))
                .values(status="sending", next_at=lease_until, claim=claim).returning(*outbox.c))]
        claimed.sort(key=lambda r: order[(r.workspace, r.id)])
        return claimed

    def renew_outbox(self, row: OutboxRow, lease_until: int) -> bool:
        if row.claim is None:
            return False
        # One conditional statement: on PostgreSQL a claim committed meanwhile is re-checked under the row lock
        with self._through("outbox"):
            done = self.c.execute(update(outbox).where(and_(
                outbox.c.workspace == row.workspace, outbox.c.id == row.id, outbox.c.status == "sending",
                outbox.c.claim == row.claim)).values(next_at=lease_until))
        return bool(done.rowcount)

    def finish_outbox(self, row: OutboxRow) -> bool:
        with self._through("outbox"):
            done = self.c.execute(update(outbox).where(and_(
                outbox.c.workspace == row.workspace, outbox.c.id == row.id,
                outbox.c.claim.is_not_distinct_from(row.claim)))
                                  .values(status=row.status, attempts=row.attempts, next_at=row.next_at,
                                          sent_at=row.sent_at, error=row.error, claim=None))
        return bool(done.rowcount)

    def finish_outbox_batch(self, rows: list[OutboxRow]) -> list[bool]:
        # One statement per 500 messages, each row fenced by its own claim token as in `finish_outbox`
        self._commit_unflushed()
        marked: set[tuple[str, str]] = set()
        with self._through("outbox"):
            self._finish_chunks(rows, marked)
        return [(r.workspace, r.id) in marked for r in rows]

    def _finish_chunks(self, rows: list[OutboxRow], marked: set[tuple[str, str]]) -> None:
        for start in range(0, len(rows), 500):
            chunk = rows[start:start + 500]
            values = ", ".join(_FINISH_ROW for _ in chunk)
            params = [p for r in chunk for p in (r.workspace, r.id, r.claim, r.status, r.attempts, r.next_at,
                                                 r.sent_at, r.error)]
            marked.update((w, i) for w, i in self._rows(_FINISH_BATCH.format(values=values), params))

    def _commit_unflushed(self) -> None:
        """Marks what was sent: on PostgreSQL its commit need not wait for the log's flush to disk. The mark is
        seen by every other transaction at once and survives a worker killed at any point; only a crash of the
        database server itself within the log writer's delay (a fraction of a second) could lose it, and the
        message would then be sent again (with the same Message-ID). Waiting for the flush made a
        transaction per message cost as much as the send itself."""
        if self.dialect == "postgresql":
            self._run("SET LOCAL synchronous_commit TO OFF", ())

    def outbox(self, status: str | None = None, limit: int = 1000) -> list[OutboxRow]:
        query = select(outbox).where(outbox.c.workspace == self.workspace)
        if status is not None:
            query = query.where(outbox.c.status == status)
        return [_outbox_row(r) for r in self.c.execute(query.order_by(outbox.c.next_at, outbox.c.id).limit(limit))]

    def sent_since(self, counterparty: str, since: int, channel: str | None = None) -> int:
        query = select(func.count()).where(and_(
            outbox.c.workspace == self.workspace, outbox.c.counterparty == counterparty, outbox.c.status == "sent",
            outbox.c.sent_at >= since))
        if channel is not None:
            query = query.where(outbox.c.channel == channel)
        found = self.c.execute(query).scalar_one()
        return int(found)

    def sent_counts(self, counterparties: list[str], since: int, channel: str | None = None) -> dict[str, int]:
        counts = dict.fromkeys(counterparties, 0)
        wanted = sorted(counts)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            sql = ("SELECT counterparty, count(*) FROM outbox WHERE workspace = ? AND status = 'sent' AND sent_at >= ?"
                   + ("" if channel is None else " AND channel = ?")
                   + f" AND counterparty IN ({', '.join('?' for _ in chunk)}) GROUP BY counterparty")
            params = [self.workspace, since, *([] if channel is None else [channel]), *chunk]
            counts.update((cp, int(n)) for cp, n in self._rows(sql, params))
        return counts

    def settings(self) -> dict[str, str]:
        return dict(self._rows("SELECT name, value FROM workspace_settings WHERE workspace = ?", (self.workspace,)))

    def set_setting(self, name: str, value: str | None) -> None:
        self.c.execute(workspace_settings.delete().where(and_(workspace_settings.c.workspace == self.workspace,
                                                              workspace_settings.c.name == name)))
        if value is not None:
            self.c.execute(workspace_settings.insert().values(workspace=self.workspace, name=name, value=value))

    def all_workspaces(self) -> list[str]:
        with self._through("workspaces"):  # the worker's clock visits each
            return [r[0] for r in self.c.execute(select(workspaces.c.id).order_by(workspaces.c.id))]

    def waiting_workspaces(self) -> list[str]:
        with self._through("deciding"):  # the deciders visit each workspace with events waiting
            return [r[0] for r in self._rows("SELECT DISTINCT workspace FROM arrivals ORDER BY workspace", ())]

    def claim_buckets(self, buckets: Collection[int], wait: bool = False) -> set[int]:
        if self.dialect != "postgresql" or not buckets:
            return set(buckets)  # SQLite has one writer at a time: a writer has every bucket
        wanted = sorted(buckets)  # taken in one order by everyone who waits: no two wait for each other
        if wait:
            self._run("SELECT pg_advisory_xact_lock(hashtext(?), b) FROM unnest(?::int[]) AS b",
                      (self.workspace, wanted))
            return set(wanted)
        return {r[0] for r in self._rows("SELECT b FROM unnest(?::int[]) AS b "
                                         "WHERE pg_try_advisory_xact_lock(hashtext(?), b)", (wanted, self.workspace))}

    def deciders_alive(self, holder: str, now: int, lease: int) -> list[str]:
        self._run("DELETE FROM deciders WHERE seen_at < ?", (now - lease,))
        self._run("INSERT INTO deciders (holder, seen_at) VALUES (?, ?) "
                  "ON CONFLICT (holder) DO UPDATE SET seen_at = excluded.seen_at", (holder, now))
        return [r[0] for r in self._rows("SELECT holder FROM deciders ORDER BY holder", ())]

    def decider_leaves(self, holder: str) -> None:
        self._run("DELETE FROM deciders WHERE holder = ?", (holder,))

    def _bulk(self, table: Table, rows: list[tuple[Any, ...]], keys: tuple[str, ...] | None = None) -> None:
        """Many rows at once, as tuples in the table's column order; `keys` makes it an upsert.

        Straight to the driver: SQLite's executemany, PostgreSQL's COPY into a temporary table and one
        INSERT from it (COPY FROM cannot write a table under row-level security, whose policies INSERT
        checks). SQLAlchemy's per-row parameter handling cost more than the database's work.
        """
        names, conflict, sql = _bulk_sql(table, keys)
        raw: Any = self.c.connection.driver_connection
        if self.dialect != "postgresql":
            with _driver(self.engine, sql):
                raw.executemany(sql, rows)
            return
        with _driver(self.engine, f"COPY {table.name}"), raw.cursor() as cursor:
            target = f"firmly_load_{table.name}"
            cursor.execute(f'CREATE TEMP TABLE IF NOT EXISTS {target} (LIKE "{table.name}") ON COMMIT DELETE ROWS')
            with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {target}{conflict}')
            cursor.execute(f"TRUNCATE {target}")


# Acknowledged events into the log as they are decided (PostgreSQL): out of the arrivals and into the events in
# one statement, with the partner deciding named (`deciding._attribute`); the count says whether all still waited
_ADMIT = (
    "WITH gone AS (DELETE FROM arrivals WHERE workspace = ? AND seq BETWEEN ? AND ? AND seq = ANY(?) "
    'RETURNING workspace, seq, id, "type", counterparty, occurred_at, "at", data, digest, tone), '
    'moved AS (INSERT INTO events (workspace, seq, id, "type", counterparty, partner, occurred_at, "at", data, '
    "digest, tone) SELECT g.workspace, g.seq, g.id, g.type, g.counterparty, p.partner, g.occurred_at, g.at, "
    "g.data, g.digest, g.tone FROM gone g JOIN unnest(?::bigint[], ?::text[]) AS p(seq, partner) "
    "ON p.seq = g.seq RETURNING 1) SELECT count(*) FROM moved")


@lru_cache(maxsize=64)
def _bulk_sql(table: Table, keys: tuple[str, ...] | None) -> tuple[str, str, str]:
    """A bulk write's column list, its upsert clause and SQLite's INSERT: built once per table, not per write
    (a single event's transaction makes three)."""
    columns = [c.name for c in table.columns]
    names = ", ".join(f'"{c}"' for c in columns)
    conflict = ""
    if keys is not None:
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in keys)
        conflict = f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    marks = ", ".join("?" for _ in columns)
    return names, conflict, f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}){conflict}'


# Types spelled out: PostgreSQL would read a column of NULLs in VALUES as text (SQLite accepts the same casts)
_FINISH_ROW = ("(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS INTEGER), "
               "CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT))")
_FINISH_BATCH = (
    "WITH v(workspace, id, claim, status, attempts, next_at, sent_at, error) AS (VALUES {values}) "
    "UPDATE outbox SET status = v.status, attempts = v.attempts, next_at = v.next_at, sent_at = v.sent_at, "
    "error = v.error, claim = NULL FROM v "
    "WHERE outbox.workspace = v.workspace AND outbox.id = v.id AND outbox.claim IS NOT DISTINCT FROM v.claim "
    "RETURNING outbox.workspace, outbox.id")


def _outbox_row(r: Any) -> OutboxRow:
    return OutboxRow(r.id, r.decision, r.counterparty, r.channel, r.recipient, r.subject, r.body, r.attachment,
                     r.status, r.attempts, r.next_at, r.created_at, r.sent_at, r.error, r.workspace, r.claim,
                     r.sender, r.sender_name, r.note)
