"""Many processes on one PostgreSQL: three `firmly serve` with deciding left to two `firmly decide`, two workers
sending to an aiosmtpd server; the clinic workload posted through all three servers at once, every other batch
with `Prefer: respond-async` (the harness of tests/e2e/test_many_processes.py, at benchmark size):

    .venv/bin/python benchmarks/bench_many.py --events 200000 --clients 20000

Prints the events acknowledged per second (first post to last answer), decided per second (first post until
none waits) and the CPU seconds of each process. `--all-sync` sends every batch without the header, `--all-async`
every batch with it. `--kill` also kills a decider or a worker with SIGKILL every 0.5 to 2 seconds (and starts it
again); `--compare` checks the outcome against one process on SQLite.
The database is made afresh on the server of FIRMLY_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1)
and used as the role the tests use, under row-level security; it is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e import many_processes as mp
from tests.e2e.test_outbox import SmtpSink


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000, help="events a post (default 1,000)")
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--deciders", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill", action="store_true", help="kill a decider or a worker every 0.5-2 s")
    parser.add_argument("--all-async", action="store_true", help="every batch with Prefer: respond-async")
    parser.add_argument("--all-sync", action="store_true", help="no batch with Prefer: respond-async")
    parser.add_argument("--mixed", action="store_true", help="the file's batches dealt to the servers in turn "
                        "(a counterparty's events in any order), not each counterparty's by one sender")
    parser.add_argument("--compare", action="store_true", help="compare with one process on SQLite")
    parser.add_argument("--dump", type=Path, help="with --compare: write both dumps here (one.json, many.json)")
    args = parser.parse_args()
    with mp.app_database("firmly_bench") as url, tempfile.TemporaryDirectory() as tmp:
        run(args, url, Path(tmp))


def run(args: argparse.Namespace, url: str, tmp: Path) -> None:
    events, wall = mp.workload(tmp / "clinic.jsonl", args.events, args.clients)
    _, sender = mp.prepare(url, wall)
    sink = SmtpSink()
    sink.controller.start()
    try:
        with mp.fleet(url, wall, sink.url, tmp, args.servers, args.deciders, args.workers) as (crew, bases):
            stop = threading.Event()
            chaos = mp.havoc(crew, stop) if args.kill else None
            began = time.monotonic()
            acknowledged = mp.post_all(bases, sender, events, args.batch, args.mixed, every(args))
            while mp.waiting(url)[0]:
                time.sleep(0.05)
            decided = time.monotonic() - began
            sent = mp.settle_down(url, 600) if args.workers else 0.0  # no worker: the letters stay unsent
            stop.set()
            if chaos is not None:
                chaos.join()
    finally:
        sink.controller.stop()
    n = len(events)
    print(f"{n:,} events through {args.servers} servers, {args.deciders} deciders, {args.workers} workers "
          f"({os.cpu_count()} CPUs), batches of {args.batch:,}, { {1: 'all', 0: 'none', 2: 'half'}[every(args)]} "
          f"respond-async{', mixed' if args.mixed else ''}")
    print(f"  acknowledged: {acknowledged:.1f} s, {n / acknowledged:,.0f} events/s")
    print(f"  decided:      {decided:.1f} s, {n / decided:,.0f} events/s (first post until none waits)")
    accepted = Counter(m.message_id for m in sink.mails)
    print(f"  messages:     {len(accepted):,} accepted by SMTP ({sum(accepted.values()) - len(accepted)} twice), "
          f"the last {sent:.1f} s after deciding; kills: {dict(crew.kills)}")
    for role, seconds in sorted(crew.cpu.items()):
        print(f"  CPU {role:8} {seconds:7.1f} s")
    if args.compare:
        from firmly import bootstrap  # noqa: PLC0415
        from firmly.service import clock  # noqa: PLC0415

        end = time.time_ns() // 1000
        many = bootstrap.store(url, mp.NAME, settled=False)
        clock.tick(many, end, now=end)
        one, found = mp.dump(mp.reference(f"sqlite:///{tmp / 'one.db'}", events, wall, end)), mp.dump(many)
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            for name, dumped in (("one", one), ("many", found)):
                (args.dump / f"{name}.json").write_text(json.dumps(dumped, ensure_ascii=False, indent=1))
        for part in ("decisions", "states", "postings"):
            print(f"  {part}: {'equal' if one[part] == found[part] else 'DIFFER'}")
        extra = {tuple(r) for r in found["outbox"]} - {tuple(r) for r in one["outbox"]}
        print(f"  outbox: {len(found['outbox'])} letters, {len(one['outbox'])} in one process, {len(extra)} more")


def every(args: argparse.Namespace) -> int:
    """Which batches ask `Prefer: respond-async`: every one (1), none (0) or every other (2)."""
    return 1 if args.all_async else 0 if args.all_sync else 2


if __name__ == "__main__":
    main()
