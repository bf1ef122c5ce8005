"""Backdated events in a big workspace, against the same events in order, and what another workspace waits.

    .venv/bin/python benchmarks/bench_late.py benchmarks/data/clinic-1m.jsonl --backend sqlite \
        [--base benchmarks/data/late-base-1m.db] [--events 1000] [--post 100] [--rounds 3] [--max-events N] \
        [--json-out FILE]
    .venv/bin/python benchmarks/bench_late.py benchmarks/data/clinic-1m.jsonl --backend postgresql \
        [--base firmly_late_base] ...

The history is the generated clinic year (benchmarks/generate.py) under benchmarks/clinic.yaml, ingested
once into a base (a SQLite file, or a PostgreSQL database) that each run copies: `--base` names it, and it
is built with `firmly init`, `firmly rulebook load` and `firmly ingest` if it does not exist yet.

Into the copy go --events events (work.logged, one per client, for clients with events on both sides of
the backdated moment) through the server's own writer (`service.group_commit.GroupCommit`, which every
POST /v1/events of a server process goes through), --post events per request, one request after another:

* backdated: each at 2026-06-15 12:00 +03:00, before its client's latest event, so each refolds its
  client's whole history;
* in order: the same events (same clients and data, other ids) a second after the workspace's clock.

Rounds alternate the two (each round its own clients), on the same copy. Meanwhile another workspace in the
same database sends one event at a time through the same writer, every 20 ms; its wait is the time from
submitting to its answer. Reported: each run's seconds, their medians, the ratio backdated / in order, and
the other workspace's waits (median, p95, max) during each kind of run and while the writer is idle.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import create_engine, text

from firmly import bootstrap
from firmly.adapters.sql.store import SqlStore
from firmly.service import ingest, rulebooks, workspace
from firmly.service.group_commit import GroupCommit
from generate import WALL_CLOCK

ROOT = Path(__file__).resolve().parent.parent
FIRMLY = ROOT / ".venv" / "bin" / "firmly"
RULEBOOK = ROOT / "benchmarks" / "clinic.yaml"
PG = "postgresql://postgres@127.0.0.1:5432"
MSK = timezone(timedelta(hours=3))
BACKDATED = datetime(2026, 6, 15, 12, 0, tzinfo=MSK)


def build_base(events: Path, backend: str, base: str) -> None:
    """The history, ingested once with the firmly command."""
    if backend == "sqlite":
        if Path(base).exists():
            return
        url = f"sqlite:///{Path(base).resolve()}"
    else:
        admin = create_engine(f"postgresql+psycopg://{PG.split('://', 1)[1]}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": base}).first():
                return
            conn.execute(text(f'CREATE DATABASE "{base}"'))
        url = f"{PG}/{base}"
    env = {**os.environ, "FIRMLY_DATABASE_URL": url, "FIRMLY_WORKSPACE": "bench"}
    for command in (["init"], ["rulebook", "load", str(RULEBOOK)], ["ingest", str(events), "--json"]):
        print("firmly", *command, file=sys.stderr)
        subprocess.run([str(FIRMLY), *command], env=env, check=True, stdout=subprocess.DEVNULL)


def copy_base(backend: str, base: str, scratch: str) -> str:
    """A copy of the base to write into; its URL."""
    if backend == "sqlite":
        target = Path(scratch)
        for suffix in ("", "-wal", "-shm", "-writer.lock"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(base, target)
        return f"sqlite:///{target.resolve()}"
    admin = create_engine(f"postgresql+psycopg://{PG.split('://', 1)[1]}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        conn.execute(text(f'CREATE DATABASE "{scratch}" TEMPLATE "{base}"'))
    admin.dispose()
    return f"{PG}/{scratch}"


def pick_clients(events: Path, wanted: int) -> list[str]:
    """Clients with events before and after the backdated moment, in a fixed order."""
    cut = BACKDATED.isoformat()  # every line is at +03:00: the text orders as the time does
    before: set[str] = set()
    both: dict[str, None] = {}
    decode = msgspec.json.Decoder().decode
    with events.open("rb") as fh:
        for line in fh:
            ev = decode(line)
            key = ev["counterparty"]
            if ev["occurred_at"] < cut:
                before.add(key)
            elif key in before:
                both[key] = None
    found = list(both)
    if len(found) < wanted:
        raise SystemExit(f"only {len(found)} clients have events on both sides of {cut}")
    return found[:wanted]


def events_for(clients: list[str], tag: str, at: datetime) -> list[dict[str, Any]]:
    return [{"id": f"{tag}-{n}", "type": "work.logged", "counterparty": key,
             "occurred_at": (at + timedelta(seconds=n)).isoformat(), "data": {"minutes": 15, "in_tariff": True}}
            for n, key in enumerate(clients)]


class Other:
    """Another workspace sending one event every `every` seconds through the same writer."""

    def __init__(self, writer: GroupCommit, store: SqlStore, every: float = 0.02) -> None:
        self.writer, self.store, self.every = writer, store, every
        self.waits: list[float] = []
        self._stop = threading.Event()
        self._n = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.waits = []
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> list[float]:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        return self.waits

    def _run(self) -> None:
        while not self._stop.is_set():
            self._n += 1
            item = {"id": f"other-{self._n}", "type": "work.logged", "counterparty": f"other-client-{self._n % 50}",
                    "occurred_at": (datetime(2027, 1, 1, tzinfo=MSK) + timedelta(seconds=self._n)).isoformat(),
                    "data": {"minutes": 5}}
            started = time.perf_counter()
            report = self.writer.submit(self.store, ingest.parsed("other", [item])).result()
            self.waits.append(time.perf_counter() - started)
            assert report.stored == 1, report
            self._stop.wait(self.every)


def send(writer: GroupCommit, store: SqlStore, items: list[dict[str, Any]], post: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(items), post):
        report = writer.submit(store, ingest.parsed("bench", items[i:i + post])).result()
        assert report.stored == len(items[i:i + post]) and not report.rejected, report.as_dict()
    return time.perf_counter() - started


def summary(waits: list[float]) -> dict[str, float]:
    ordered = sorted(waits)
    return {"n": len(ordered), "median_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("events", type=Path, help="the generated history (.jsonl)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--base", help="the ingested history: a SQLite file or a PostgreSQL database name")
    parser.add_argument("--events", dest="count", type=int, default=1000)
    parser.add_argument("--post", type=int, default=100, help="events per request")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-events", type=int, help="events per transaction of the writer (default: its own)")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("FIRMLY_NOW", WALL_CLOCK)  # the history's own wall clock, as the other ingest benchmarks
    base = args.base or ("benchmarks/data/late-base.db" if args.backend == "sqlite" else "firmly_late_base")
    build_base(args.events, args.backend, base)
    clients = pick_clients(args.events, args.count * args.rounds)
    scratch = "benchmarks/data/late-scratch.db" if args.backend == "sqlite" else "firmly_late_scratch"
    url = copy_base(args.backend, base, scratch)
    store, other_store = bootstrap.store(url, "bench"), bootstrap.store(url, "other")
    workspace.init(other_store, "en", "Europe/London", 0)
    rulebooks.load(other_store, rulebooks.read(RULEBOOK), 0)
    with store.read():
        stored = store.workspace_info()
    assert stored is not None and stored.clock is not None
    writer = GroupCommit() if args.max_events is None else GroupCommit(max_events=args.max_events)
    other = Other(writer, other_store)
    other.start()
    time.sleep(2)
    idle = other.stop()
    runs: dict[str, list[float]] = {"backdated": [], "in_order": []}
    waits: dict[str, list[float]] = {"backdated": [], "in_order": []}
    for r in range(args.rounds):
        mine = clients[r * args.count:(r + 1) * args.count]
        order = ("backdated", "in_order") if r % 2 == 0 else ("in_order", "backdated")
        for kind in order:
            if kind == "backdated":
                items = events_for(mine, f"late{r}", BACKDATED)
            else:
                with store.read():
                    now = store.workspace_info()
                assert now is not None and now.clock is not None
                start = datetime.fromtimestamp(now.clock / 1e6, MSK) + timedelta(seconds=1)
                items = events_for(mine, f"inorder{r}", start)
            other.start()
            seconds = send(writer, store, items, args.post)
            waits[kind].extend(other.stop())
            runs[kind].append(seconds)
            print(f"round {r + 1} {kind}: {seconds:.2f} s", file=sys.stderr)
    writer.close()
    result = {
        "backend": args.backend, "history_events": stored.events - 1, "events": args.count, "post": args.post,
        "max_events": writer.max_events, "transactions": writer.groups,
        "runs_s": {k: [round(s, 3) for s in v] for k, v in runs.items()},
        "median_s": {k: round(statistics.median(v), 3) for k, v in runs.items()},
        "ratio": round(statistics.median(runs["backdated"]) / statistics.median(runs["in_order"]), 2),
        "other_wait": {"idle": summary(idle), **{k: summary(v) for k, v in waits.items()}},
    }
    print(json.dumps(result, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
