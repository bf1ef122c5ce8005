"""Where a decider's time goes at the end of a big backlog on PostgreSQL: the clinic workload acknowledged, two
`firmly decide` processes decide all but the last `--tail` events, then one decider in this process decides those
under cProfile, with PostgreSQL's block counters (`pg_statio`) taken over the tail.

    .venv/bin/python benchmarks/profile_backlog.py --events 1000000 --clients 100000 --tail 100000
    .venv/bin/python benchmarks/profile_backlog.py --events 100000 --clients 10000 --tail 100000  # from the start

Prints the seconds of the tail, the blocks each table and index read from outside the buffer cache and found in
it, and the store's methods by cumulative time. The database is made afresh and dropped at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import _driver, _pg_admin_url
from tests.e2e import many_processes as mp

from bench_deciders import acknowledged, waiting
from firmly.service import settle

BLOCKS = ("SELECT relname, indexrelname, idx_blks_read, idx_blks_hit FROM pg_statio_all_indexes "
          "WHERE schemaname = 'public' UNION ALL SELECT relname, '(table)', heap_blks_read, heap_blks_hit "
          "FROM pg_statio_all_tables WHERE schemaname = 'public'")
TABLES = ("SELECT relname, n_live_tup, n_dead_tup, pg_size_pretty(pg_total_relation_size(relid)) "
          "FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT 6")


def blocks(conn: Any) -> dict[tuple[str, str], tuple[int, int]]:
    return {(r[0], r[1]): (r[2] or 0, r[3] or 0) for r in conn.execute(text(BLOCKS))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--tail", type=int, default=100_000, help="events left to the profiled decider")
    args = parser.parse_args()
    events, wall = mp.workload(Path(f"/tmp/profile-backlog-{args.events}.jsonl"), args.events, args.clients)
    with mp.app_database("firmly_bench") as url:
        admin = create_engine(_driver(_pg_admin_url().rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]),
                              isolation_level="AUTOCOMMIT")
        store, took = acknowledged(url, events, wall)
        print(f"{len(events):,} events acknowledged in {took:.0f} s", flush=True)
        env = {**os.environ, "FIRMLY_DATABASE_URL": url, "FIRMLY_NOW": wall}
        crew = [subprocess.Popen([sys.executable, "-m", "firmly", "decide", "--interval", "0.1"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(2 if len(events) > args.tail else 0)]
        while waiting(store, count=True) > args.tail:
            time.sleep(1)
        for p in crew:
            p.terminate()
        for p in crew:
            p.wait(60)
        left = waiting(store, count=True)
        with admin.connect() as conn:
            for row in conn.execute(text(TABLES)):
                print(f"  {row[0]:16} live {row[1]:>10,} dead {row[2]:>10,} {row[3]:>8}")
            before = blocks(conn)
        began, cpu = time.monotonic(), time.process_time()
        profile = cProfile.Profile()
        profile.enable()
        done = settle.share_out(store, None)
        profile.disable()
        print(f"the tail: {done:,} of {left:,} decided in {time.monotonic() - began:.1f} s "
              f"({time.process_time() - cpu:.1f} s CPU)")
        with admin.connect() as conn:
            after = blocks(conn)
        admin.dispose()
        moved = sorted(((after[k][0] - before.get(k, (0, 0))[0], after[k][1] - before.get(k, (0, 0))[1], k)
                        for k in after), reverse=True)
        for read, hit, (table, index) in moved[:16]:
            print(f"  {table:16} {index:34} read {read:>9,} hit {hit:>11,}")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(r"store\.py|deciding\.py|settle\.py|process\.py",
                                                                   25)


if __name__ == "__main__":
    main()
