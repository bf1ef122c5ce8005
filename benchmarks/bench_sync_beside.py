"""A synchronous post while a backlog waits to be decided, on PostgreSQL: how long one booking takes to be
stored and decided when --backlog events of a bulk sender wait (acknowledged with `Prefer: respond-async`, no
decider at work yet), and the same posts with nothing waiting, for reference.

    .venv/bin/python benchmarks/bench_sync_beside.py --backlog 50000 --posts 5

The service functions the API calls, in this process (`ingest.ingest`, with and without `later`), on a fresh
database of the server of FIRMLY_TEST_POSTGRES_URL, used as the tests' role under row-level security; dropped at
the end. Prints each post's seconds and how many events still wait after it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e import many_processes as mp

from firmly import bootstrap
from firmly.domain.clock import parse_instant
from firmly.service import ingest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=5)
    args = parser.parse_args()
    with mp.app_database("firmly_bench") as url, tempfile.TemporaryDirectory() as tmp:
        events, wall = mp.workload(Path(tmp) / "clinic.jsonl", args.backlog, args.clients)
        mp.prepare(url, wall)
        store = bootstrap.store(url, mp.NAME, settled=False)
        now = parse_instant(wall)

        def post(n: int) -> float:
            booking = {"id": f"sync-{n}", "type": "appointment.booked", "counterparty": f"walk-in-{n}",
                       "occurred_at": wall, "data": {"appointment": f"sync-a{n}", "starts_at": "2100-01-01T10:00:00Z"}}
            began = time.perf_counter()
            report = ingest.ingest(store, ingest.parsed("post", [booking]), now=now)
            assert report.stored == 1, report
            return time.perf_counter() - began

        quiet = [post(n) for n in range(args.posts)]
        began = time.perf_counter()
        ingest.ingest(store, ingest.parsed("bulk", events), now=now, later=True, backlog=len(events) + 1)
        staged = time.perf_counter() - began
        busy = []
        for n in range(args.posts):
            busy.append(post(args.posts + n))
            with store.read():
                ws = store.workspace_info(count=True)
            print(f"  post {n + 1}: {busy[-1]:.3f} s, then {ws.pending if ws else '?'} events wait")
        print(f"nothing waiting: median {statistics.median(quiet):.3f} s of {args.posts} posts")
        print(f"{len(events):,} waiting (acknowledged in {staged:.1f} s): median {statistics.median(busy):.3f} s, "
              f"first {busy[0]:.3f} s")


if __name__ == "__main__":
    main()
