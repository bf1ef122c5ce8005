"""Deciding a backlog on PostgreSQL with one `firmly decide` and with two, side by side in one run: the clinic
workload acknowledged first (in batches of 1,000, as bulk senders post them with `Prefer: respond-async`), then
the deciders started and timed until none waits.

    .venv/bin/python benchmarks/bench_deciders.py --events 200000 --clients 20000 --deciders 1 2

Prints, for each count of deciders, the seconds from their start until nothing waits, the events decided per
second, the ratio to one decider, and the CPU seconds of each decider and of the PostgreSQL server meanwhile
(so that the scaling to more machines can be read off: on this machine the server shares the cores). Each run
has a database of its own, made afresh on FIRMLY_TEST_POSTGRES_URL's server and used as the tests' role, under
row-level security; dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import _driver, _pg_admin_url
from tests.e2e import many_processes as mp

from firmly import bootstrap
from firmly.domain.clock import parse_instant
from firmly.domain.ports import Store
from firmly.service import ingest

TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid: int) -> float:
    """CPU seconds (user and system) of a process so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def server_cpu() -> float:
    """CPU seconds of every PostgreSQL process on the machine (its backends, writer, WAL writer)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    total += cpu(int(entry.name))
            except OSError:
                continue
    return total


def waiting(store: Store, count: bool = False) -> int:
    """Whether events wait (1 or 0), read without deciding them (one small query); with `count`, how many."""
    with store.read():
        ws = store.workspace_info(count)
    assert ws is not None
    return ws.pending


def acknowledged(url: str, events: list[dict[str, object]], wall: str) -> tuple[Store, float]:
    """The workspace prepared and the events acknowledged in batches of 1,000, as bulk senders post them with
    `Prefer: respond-async` (the bound lifted); returns its store and the seconds taken."""
    mp.prepare(url, wall)
    store = bootstrap.store(url, mp.NAME, settled=False)
    began = time.monotonic()
    for i in range(0, len(events), 1_000):
        ingest.ingest(store, ingest.parsed("events", events[i:i + 1_000]), now=parse_instant(wall),
                      later=True, backlog=10**9)
    return store, time.monotonic() - began


def one_run(events: list[dict[str, object]], wall: str, deciders: int, tmp: Path) -> dict[str, float]:
    admin = create_engine(_driver(_pg_admin_url()), isolation_level="AUTOCOMMIT")  # to watch the deciders
    with mp.app_database("firmly_bench") as url, contextlib.ExitStack() as done:
        done.callback(admin.dispose)
        name = url.rsplit("/", 1)[1]
        store, staged = acknowledged(url, events, wall)
        env = {**os.environ, "FIRMLY_DATABASE_URL": url, "FIRMLY_NOW": wall}
        before = server_cpu()
        began = time.monotonic()
        crew = [subprocess.Popen([sys.executable, "-m", "firmly", "decide", "--interval", "0.1"], env=env,
                                 stdout=(tmp / f"decide{n}.log").open("ab"), stderr=subprocess.STDOUT)
                for n in range(deciders)]
        try:
            used = [0.0] * deciders
            waits: Counter[str] = Counter()
            while waiting(store):
                used = [max(u, cpu(p.pid)) for u, p in zip(used, crew, strict=True)]
                for _ in range(5):
                    with admin.connect() as conn:  # what the deciders' connections are doing, sampled
                        waits.update(f"{r[0]}/{r[1]}/{r[2]}" for r in conn.execute(text(
                            "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE datname = :n "
                            "AND pid <> pg_backend_pid()"), {"n": name}))
                    time.sleep(0.05)
            took = time.monotonic() - began
            used = [max(u, cpu(p.pid)) for u, p in zip(used, crew, strict=True)]
            server = server_cpu() - before
        finally:
            for p in crew:
                p.terminate()
            for p in crew:
                p.wait(30)
        for n in range(deciders):  # what a decider said, if it stopped with an error
            said = (tmp / f"decide{n}.log").read_text(errors="replace").strip()
            if "Traceback" in said or "error" in said.lower():
                print(f"    decide{n}: {said[-600:]}")
        if os.environ.get("BENCH_WAITS"):
            print("   ", ", ".join(f"{k} {v}" for k, v in waits.most_common(8)))
        return {"staged": staged, "took": took, "server": server, **{f"decider{n}": u for n, u in enumerate(used)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--deciders", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=1, help="runs of each count, interleaved")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        events, wall = mp.workload(Path(tmp) / "clinic.jsonl", args.events, args.clients)
        n = len(events)
        print(f"{n:,} events acknowledged, then decided ({os.cpu_count()} CPUs, PostgreSQL on the same machine)")
        rates: dict[int, list[float]] = {}
        for _ in range(args.runs):
            for count in args.deciders:
                found = one_run(events, wall, count, Path(tmp))
                rate = n / found["took"]
                rates.setdefault(count, []).append(rate)
                each = ", ".join(f"{found[f'decider{i}']:.1f}" for i in range(count))
                deciding = sum(found[f"decider{i}"] for i in range(count))
                print(f"  {count} decider(s): {found['took']:.1f} s, {rate:,.0f} events/s "
                      f"(acknowledged in {found['staged']:.1f} s); CPU s: deciders {each}, PostgreSQL "
                      f"{found['server']:.1f}; CPU an event: deciders {deciding / n * 1e6:.0f} µs, PostgreSQL "
                      f"{found['server'] / n * 1e6:.0f} µs", flush=True)
        base = sorted(rates[args.deciders[0]])[len(rates[args.deciders[0]]) // 2]
        for count, measured in rates.items():
            median = sorted(measured)[len(measured) // 2]
            print(f"  median {count}: {median:,.0f} events/s, {median / base:.2f}× {args.deciders[0]}")


if __name__ == "__main__":
    main()
