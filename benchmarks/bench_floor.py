"""What SQLite alone costs for the rows that ingesting the API benchmark's batches writes: the floor under
`POST /v1/events` on SQLite, whatever runs above it (HTTP, decoding, the engine).

    .venv/bin/python benchmarks/bench_floor.py [--events 100000] [--clients 20000] [--runs 3] [--json-out FILE] \
        [--schema-sql FILE] [--blank-explanations]

1. capture: --events events of a workload generated as bench_api.py's go in batches of 1,000 through the service
   layer (`ingest.parsed` + `ingest.ingest`, what the API's writer thread runs) into a fresh SQLite file,
   as the server would store them. Every row each batch's transaction writes is recorded on the way (the
   store's bulk writes: events, decisions, counterparty states, postings). The time per event of this full
   ingest is reported for comparison.
2. replay: those rows, transaction by transaction, go into a fresh copy of the same empty database with the
   store's own statements (`_bulk_sql`: `executemany`, upserts for decisions and states) and pragmas, and nothing else.
   Three ways, each the median of --runs:
   - `all rows, checkpoint in the commit`: SQLite's default, the commit that takes the log past 1,000 pages
     copies it into the database: all of SQLite's work, on one core;
   - `all rows, checkpoint thread`: as `firmly serve` does it (SQLite's own checkpoint at 10,000 pages, a
     thread checkpointing PASSIVE after each commit): what the writer itself waits for;
   - `events only, checkpoint thread`: only the events' rows, i.e. what storing events would cost if the
     decisions were made later, outside the request.
To try another data model under the same rows: --schema-sql runs a SQL script on the empty database before
the replays (drop an index, rebuild a table `WITHOUT ROWID`, change the page size with VACUUM), and
--blank-explanations stores decisions with an empty explanation (as if it were written out when read).
The budget at the API goal of 20,000 events/s is 50 µs per event for everything; the replay shows how much
of it SQLite's writes take before any Python runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Table

from bench_api import BATCH, FIRMLY, HERE, workload
from firmly.adapters.sql.store import SqlStore, _bulk_sql, make_engine
from firmly.adapters.sql.tables import decisions, metadata
from firmly.domain.clock import parse_instant
from firmly.service import ingest
from generate import WALL_CLOCK

BUDGET_US = 1e6 / 20_000
EXPLANATION = [c.name for c in decisions.columns].index("explanation")
Transaction = list[tuple[str, tuple[str, ...] | None, list[tuple[Any, ...]]]]


class Recording(SqlStore):
    """The store, noting every bulk write of the transaction under way."""

    taken: Transaction

    def _bulk(self, table: Table, rows: list[tuple[Any, ...]], keys: tuple[str, ...] | None = None) -> None:
        self.taken.append((table.name, keys, list(rows)))
        super()._bulk(table, rows, keys)


def fresh_database(workdir: Path) -> Path:
    """`firmly init` and the benchmark's rulebook in a new file: the empty database both phases start from."""
    db = workdir / "empty.db"
    env = {"FIRMLY_DATABASE_URL": f"sqlite:///{db}", "FIRMLY_WORKSPACE": "bench", "PATH": "/usr/bin:/bin"}
    for args in (["init", "--locale", "ru", "--timezone", "Europe/Moscow"],
                 ["rulebook", "load", str(HERE / "clinic.yaml")]):
        subprocess.run([str(FIRMLY), *args], env=env, check=True, capture_output=True, timeout=300)
    return db


def capture(empty: Path, workdir: Path, lines: list[bytes]) -> tuple[list[Transaction], float]:
    """Ingest through the service layer; every transaction's rows, and the seconds the ingest took."""
    db = workdir / "capture.db"
    shutil.copy(empty, db)
    engine = make_engine(f"sqlite:///{db}")
    store = Recording(engine, "bench")
    decode = msgspec.json.Decoder().decode
    transactions: list[Transaction] = []
    now = parse_instant(WALL_CLOCK)  # as bench_api.py's server runs
    start = time.perf_counter()
    for i in range(0, len(lines), BATCH):
        store.taken = []
        report = ingest.ingest(store, ingest.parsed("batch", decode(b"[" + b",".join(lines[i:i + BATCH]) + b"]")),
                               detailed=True, now=now)
        if report.rejected:
            raise SystemExit(f"the workload has rejected events: {report.rejected[0]}")
        transactions.append(store.taken)
    seconds = time.perf_counter() - start
    engine.dispose()
    return transactions, seconds


class Checkpoints:
    """A PASSIVE checkpoint after each commit, on a thread of its own, as the server's Writers do."""

    def __init__(self, db: Path) -> None:
        self.db, self.due, self.stopping = db, threading.Event(), False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        conn = sqlite3.connect(self.db, isolation_level=None, check_same_thread=False)
        while True:
            self.due.wait()
            self.due.clear()
            if self.stopping:
                conn.close()
                return
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            time.sleep(0.1)

    def stop(self) -> None:
        self.stopping = True
        self.due.set()
        self.thread.join()


def replay(empty: Path, workdir: Path, transactions: list[Transaction], tables: Iterable[str] | None,
           thread: bool) -> tuple[float, float]:
    """Seconds spent inserting and committing the recorded rows into a fresh copy of the empty database."""
    db = workdir / "replay.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(empty, db)
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-262144",
                   f"wal_autocheckpoint={10_000 if thread else 1_000}"):
        conn.execute(f"PRAGMA {pragma}")
    checkpoints = Checkpoints(db) if thread else None
    wanted = None if tables is None else set(tables)
    inserting = committing = 0.0
    for transaction in transactions:
        conn.execute("BEGIN IMMEDIATE")
        started = time.perf_counter()
        for table, keys, rows in transaction:
            if wanted is not None and table not in wanted:
                continue
            conn.executemany(_bulk_sql(metadata.tables[table], keys)[2], rows)  # the store's own statement
        inserted = time.perf_counter()
        conn.execute("COMMIT")
        inserting += inserted - started
        committing += time.perf_counter() - inserted
        if checkpoints is not None:
            checkpoints.due.set()
    if checkpoints is not None:
        checkpoints.stop()
    conn.close()
    return inserting, committing


def reshaped(empty: Path, script: Path | None, transactions: list[Transaction], blank: bool
             ) -> tuple[Path, list[Transaction]]:
    """The empty database after --schema-sql, and the rows with --blank-explanations."""
    if script is not None:
        changed = empty.with_name("reshaped.db")
        shutil.copy(empty, changed)
        conn = sqlite3.connect(changed, isolation_level=None)
        conn.executescript(script.read_text())
        conn.close()
        empty = changed
    if blank:
        at = EXPLANATION
        transactions = [[(table, keys, [(*r[:at], "", *r[at + 1:]) for r in rows] if table == "decisions" else rows)
                         for table, keys, rows in transaction] for transaction in transactions]
    return empty, transactions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--schema-sql", type=Path, help="a SQL script run on the empty database before the replays")
    parser.add_argument("--blank-explanations", action="store_true")
    args = parser.parse_args()
    path = workload(args.clients, args.events, args.seed, HERE / "data")
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    n = len(lines)
    with tempfile.TemporaryDirectory(prefix="firmly-floor-") as tmp:
        workdir = Path(tmp)
        empty = fresh_database(workdir)
        transactions, seconds = capture(empty, workdir, lines)
        rows: dict[str, int] = {}
        for transaction in transactions:
            for table, _, written in transaction:
                rows[table] = rows.get(table, 0) + len(written)
        print(f"{n:,} events in {len(transactions)} transactions write " +
              ", ".join(f"{count:,} {table} rows" for table, count in rows.items()))
        print(f"the whole ingest through the service layer: {seconds / n * 1e6:.1f} µs per event "
              f"({n / seconds:,.0f} events/s)")
        empty, transactions = reshaped(empty, args.schema_sql, transactions, args.blank_explanations)
        results: dict[str, Any] = {
            "schema_sql": str(args.schema_sql or ""), "blank_explanations": args.blank_explanations, "events": n,
            "rows": rows, "ingest_us_per_event": seconds / n * 1e6, "budget_us_per_event": BUDGET_US, "replays": {}}
        for label, tables, thread in (("all rows, checkpoint in the commit", None, False),
                                      ("all rows, checkpoint thread", None, True),
                                      ("events only, checkpoint thread", ("events",), True)):
            runs = [replay(empty, workdir, transactions, tables, thread) for _ in range(args.runs)]
            insert = statistics.median(r[0] for r in runs) / n * 1e6
            commit = statistics.median(r[1] for r in runs) / n * 1e6
            total = statistics.median(r[0] + r[1] for r in runs) / n * 1e6
            results["replays"][label] = {"insert_us": insert, "commit_us": commit, "total_us": total}
            print(f"  {label:36} inserts {insert:5.1f} + commit {commit:5.1f} = {total:5.1f} µs per event "
                  f"({total / BUDGET_US:.2f} of the {BUDGET_US:.0f} µs budget)")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
