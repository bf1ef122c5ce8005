"""Every query on a hot path searches an index, on SQLite and PostgreSQL; a late event and the public partner
page cost the same in a big workspace as in a small one.

HOT lists the hot paths as the store calls they make. Each call is run for real and every statement it sends
is explained by the database: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN with sequential scans
switched off (on tables this small it would rightly prefer them). A plan that scans a table, or searches it by
the workspace alone (every row of the workspace), fails the test, naming the call, the statement and the plan.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event, text

from firmly import bootstrap
from firmly.adapters.sql.store import SqlStore
from firmly.adapters.sql.tables import metadata
from firmly.domain.engine import REVIEW_EVENT
from firmly.service import demo, ingest, reviews
from tests.conftest import database_of_its_own

# The tables that grow with a workspace's history: a scan of any of them is a scan of the workspace.
GROWING = frozenset({"events", "counterparties", "decisions", "postings", "outbox"})
CLIENT, PARTNER = "patient-n1", "northside"  # from the network-en example


@dataclass(frozen=True)
class Hot:
    path: str  # where it runs, in words
    call: Callable[[SqlStore], object]


HOT: list[Hot] = [
    Hot("ingest: the digests of incoming ids", lambda s: s.digests(["n1-book", "nope"])),
    Hot("ingest: the states of the counterparties", lambda s: s.load_states([CLIENT, PARTNER])),
    Hot("a late event's refold: the client's history", lambda s: s.events_about([CLIENT])),
    Hot("a late event's refold: the partner's history", lambda s: s.events_about([PARTNER])),
    Hot("a late event's refold: its decisions", lambda s: s.decisions(counterparty=CLIENT)),
    Hot("late events' refolds: their histories at once", lambda s: s.events_about([CLIENT, PARTNER])),
    Hot("late events' refolds: their stored decisions", lambda s: s.decision_facts([CLIENT, PARTNER])),
    Hot("late events' refolds: their ledgers posted anew", lambda s: s.drop_postings([CLIENT, PARTNER])),
    Hot("the public partner page: its reviews", lambda s: s.events_about([PARTNER], types=("review.received",))),
    Hot("the review queue", lambda s: s.decisions(status="proposed")),
    Hot("the worker: scheduled decisions", lambda s: s.decisions(status="scheduled")),
    Hot("the review log: people's acts", lambda s: s.events_of_type(REVIEW_EVENT)),
    Hot("a review act: its decision", lambda s: s.decisions(ids=["one", "another"])),
    Hot("the dashboard and invoices: invoices issued", lambda s: s.decisions(action="top_up_invoice")),
    Hot("the clock: counterparties whose timers are due", lambda s: s.states_due(2**62)),
    Hot("the partners' report", lambda s: list(s.states("partner"))),
    Hot("a counterparty's ledger", lambda s: s.postings(CLIENT)),
    Hot("the outbox by status", lambda s: s.outbox("failed")),
    Hot("the daily limit of messages", lambda s: s.sent_since(CLIENT, 0, "email")),
    Hot("every request: the workspace", lambda s: s.workspace_info()),
    Hot("every request: the rulebooks", lambda s: s.rulebooks()),
    Hot("every request: the workspace's settings", lambda s: s.settings()),
]


# -- what each statement's plan says ---------------------------------------------------------------------------
def _sqlite_faults(plan: list[str]) -> list[str]:
    faults = []
    for line in plan:
        found = re.match(r"(SCAN|SEARCH)(?: TABLE)? (\w+)", line)
        if found is None or found.group(2) not in GROWING:
            continue
        if found.group(1) == "SCAN" or line.endswith("(workspace=?)"):
            faults.append(line)
    return faults


_TABLE_OF = {index.name: table.name for table in metadata.tables.values() for index in table.indexes
             if index.name is not None} | {f"{name}_pkey": name for name in metadata.tables}


def _pg_faults(plan: dict[str, Any]) -> list[str]:
    faults = []
    node_type = plan.get("Node Type", "")
    if node_type == "Seq Scan" and plan.get("Relation Name") in GROWING:
        faults.append(f"Seq Scan on {plan['Relation Name']}")
    cond = plan.get("Index Cond")
    table = plan.get("Relation Name") or _TABLE_OF.get(plan.get("Index Name", ""))
    if table in GROWING and cond is not None and "workspace" in cond and " AND " not in cond:  # every row of it
        faults.append(f"{node_type} using {plan.get('Index Name')} on {cond}")
    found = [_pg_faults(inner) for inner in plan.get("Plans", [])]
    if node_type == "BitmapAnd" and not all(found):  # one search narrows it: the others only help
        return faults
    return faults + [fault for inner in found for fault in inner]


class Explained:
    """Records the statements sent to the database (past SQLAlchemy too: the store sends its hot queries
    straight to the driver) and explains each."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sent: list[tuple[str, Any]] = []

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, Any]]]:
        self.sent = []
        engine = self.engine
        if engine.dialect.name == "sqlite":
            def on(dbapi: Any, _record: Any, _proxy: Any) -> None:
                dbapi.set_trace_callback(lambda sql: self.sent.append((sql, None)))

            def off(dbapi: Any, _record: Any) -> None:
                dbapi.set_trace_callback(None)
        else:
            sent = self.sent

            class Recording(psycopg.Cursor[Any]):
                def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                    sent.append((str(query), params))
                    return super().execute(query, params, **kwargs)

            def on(dbapi: Any, _record: Any, _proxy: Any) -> None:
                dbapi.cursor_factory = Recording

            def off(dbapi: Any, _record: Any) -> None:
                dbapi.cursor_factory = psycopg.Cursor
        event.listen(engine, "checkout", on)
        event.listen(engine, "checkin", off)
        try:
            yield self.sent
        finally:
            event.remove(engine, "checkout", on)
            event.remove(engine, "checkin", off)

    def faults(self) -> list[tuple[str, list[str], list[str]]]:
        """(statement, plan, what is wrong) for every statement that reads a growing table badly."""
        out = []
        for sql, params in self.sent:
            if not re.match(r"\s*(SELECT|UPDATE|DELETE|WITH)\b", sql, re.IGNORECASE):
                continue
            plan, faults = self._explain(sql, params)
            if faults:
                out.append((sql, plan, faults))
        return out

    def plans(self) -> list[list[str]]:
        return [self._explain(sql, params)[0] for sql, params in self.sent
                if re.match(r"\s*(SELECT|UPDATE|DELETE|WITH)\b", sql, re.IGNORECASE)]

    def _explain(self, sql: str, params: Any) -> tuple[list[str], list[str]]:
        if self.engine.dialect.name == "sqlite":
            with sqlite3.connect(str(self.engine.url.database)) as conn:
                lines = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
            return lines, _sqlite_faults(lines)
        with psycopg.connect(str(self.engine.url.set(drivername="postgresql"))) as conn:
            conn.execute("SET enable_seqscan = off")
            found = conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()
            assert found is not None
            plan = found[0][0]["Plan"]
            return [json.dumps(plan)], _pg_faults(plan)


@pytest.fixture
def url(database_url: str) -> Iterator[str]:
    """A database of its own on PostgreSQL: in the session's shared one, the other tests' many small workspaces
    with the same keys make the planner (rightly) search this small workspace by its name alone, which a
    workspace big enough to matter never is."""
    with database_of_its_own(database_url, "firmly_plans") as url:
        yield url


def _network(database_url: str) -> SqlStore:
    """A workspace of the network example: partners, their patients' bookings, reviews, decisions."""
    store = bootstrap.store(database_url, f"plans-{uuid.uuid4().hex[:8]}")
    assert isinstance(store, SqlStore)
    demo.demo(store, "network-en", 0)
    _analyze(store)
    return store


def _analyze(store: SqlStore) -> None:
    """PostgreSQL's statistics, as the store keeps them fresh after big ingests (and autovacuum does): without
    them the planner takes a table for empty and any index for as good as another."""
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


def test_every_hot_query_searches_an_index(url: str) -> None:
    store = _network(url)
    explained = Explained(store.engine)
    failures: list[str] = []
    for hot in HOT:
        with explained.recording() as sent, store.write():
            hot.call(store)
        reads = [sql for sql, _ in sent if re.match(r"\s*(SELECT|UPDATE|DELETE)", sql, re.IGNORECASE)]
        assert reads, f"{hot.path}: no statement was recorded"
        failures.extend(f"{hot.path}:\n  {sql}\n  plan: {plan}\n  {faults}" for sql, plan, faults in explained.faults())
    assert not failures, "hot queries that read a whole workspace:\n" + "\n".join(failures)


def test_the_plan_check_catches_a_scan(database_url: str) -> None:
    """The check above is not vacuous: a query by a column no index starts with is caught, on both databases,
    as is a search by the workspace alone."""
    store = _network(database_url)
    explained = Explained(store.engine)
    with explained.recording(), store.write():
        store.c.execute(text("SELECT id FROM events WHERE occurred_at = :o"), {"o": "x"})
        store.c.execute(text("SELECT id FROM events WHERE workspace = :w AND data = :d"),
                        {"w": store.workspace, "d": "{}"})
    faults = explained.faults()
    assert len(faults) == 2, faults


# -- items that used to read the whole workspace: the database's work does not grow with it --------------------
def _grow(store: SqlStore, clients: int, start: int) -> None:
    """More patients booked into the partner, none of them the client measured."""
    items = [{"id": f"grow-{n}", "type": "appointment.booked", "counterparty": f"grown-{n}",
              "occurred_at": "2026-04-25T09:00:00+01:00",
              "data": {"appointment": f"g{n}", "starts_at": "2026-05-20T10:00:00+01:00", "partner": PARTNER}}
             for n in range(start, start + clients)]
    report = ingest.ingest(store, ingest.parsed("grow", items))
    assert report.stored == clients and not report.rejected
    _analyze(store)


def _work(store: SqlStore, run: Callable[[], object]) -> int:
    """What the database did to run `run`: on SQLite the instructions its virtual machine ran, on
    PostgreSQL the rows it read from tables (sequential scans off: the question is whether an index bounds
    the work)."""
    if store.dialect == "sqlite":
        ticks = [0]

        def on(dbapi: Any, _record: Any, _proxy: Any) -> None:
            dbapi.set_progress_handler(lambda: ticks.__setitem__(0, ticks[0] + 1) or 0, 1)

        def off(dbapi: Any, _record: Any) -> None:
            dbapi.set_progress_handler(None, 1)

        event.listen(store.engine, "checkout", on)
        event.listen(store.engine, "checkin", off)
        try:
            run()
        finally:
            event.remove(store.engine, "checkout", on)
            event.remove(store.engine, "checkin", off)
        return ticks[0]
    read = ("SELECT coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0) FROM pg_stat_xact_user_tables "
            f"WHERE relname IN ({', '.join(repr(t) for t in sorted(GROWING))})")
    with store.write():  # one transaction: the statistics of this transaction are those of `run`
        store.c.execute(text("SET LOCAL enable_seqscan = off"))
        before = store.c.execute(text(read)).scalar_one()
        run()
        after = store.c.execute(text(read)).scalar_one()
    return int(after - before)


def _late_event(n: int) -> list[ingest.Parsed]:
    """Work logged for the client before its last event: a refold of its history."""
    return ingest.parsed("late", [{"id": f"late-{n}", "type": "work.logged", "counterparty": CLIENT,
                                   "occurred_at": "2026-04-05T12:00:00+01:00", "data": {"minutes": 5 + n}}])


def test_a_late_event_costs_the_same_in_a_workspace_eight_times_as_big(url: str) -> None:
    store = _network(url)
    _grow(store, 100, 0)
    small = _work(store, lambda: ingest.ingest(store, _late_event(1)))
    _grow(store, 700, 100)
    big = _work(store, lambda: ingest.ingest(store, _late_event(2)))
    explained = Explained(store.engine)
    with explained.recording():
        report = ingest.ingest(store, _late_event(3))
    assert report.stored == 1
    assert not explained.faults(), "\n".join(sql for sql, _, _ in explained.faults())
    history = [ev.id for ev in store_events(store, CLIENT)]
    assert {"late-1", "late-2", "late-3"} <= set(history)  # refolded with the client's own history only
    assert big <= small * 1.3 + 20, (small, big)  # reading the workspace made it grow with its 800 patients


def store_events(store: SqlStore, key: str) -> list[Any]:
    with store.read():
        return store.events_about([key])


def test_the_partner_page_reads_its_reviews_not_the_workspace(url: str) -> None:
    store = _network(url)
    _grow(store, 100, 0)
    small = _work(store, lambda: reviews.partner_page(store, PARTNER))
    _grow(store, 700, 100)
    big = _work(store, lambda: reviews.partner_page(store, PARTNER))
    page = reviews.partner_page(store, PARTNER)
    assert [r["text"] for r in page.reviews] == ["Had to wait two hours.", "Seen on time, lovely staff."]
    assert big <= small * 1.3 + 20, (small, big)  # its 800 new bookings are not read
