"""Events acknowledged per second with `Prefer: respond-async`, against synchronous posts, in one run.

    .venv/bin/python benchmarks/bench_async.py [--events 100000] [--clients 20000] [--repeat 3] \
        [--workers 2] [--connections 4] [--server-cpu 0,1] [--client-cpu -1] [--json-out FILE]

Each repeat, for each way (`sync`, then `async`), starts from nothing as benchmarks/bench_api.py does (a fresh
SQLite file, `firmly init`, `firmly rulebook load benchmarks/clinic.yaml`, tokens, `firmly serve --workers N`
with the rate limit off), then POSTs the first --events events of the generated clinic workload in batches of
1,000, in occurred_at order, from --connections keep-alive connections (each takes the next batch when its
last is answered):

- sync: every batch must answer 200 (stored and decided) -> events/s;
- async: with `Prefer: respond-async`, every batch must answer 202 -> acknowledged events/s (from the first
  POST to the last answer); then the `Location` of the last answer is polled (it decides nothing) until
  `done` -> the deciding rate (events / time from the first POST until every event is decided), and how
  many events waited when the last was acknowledged. A 503 (past FIRMLY_ASYNC_BACKLOG) is waited out
  (Retry-After) and sent again, and counted.

The decisions of either workspace are counted. With more than one connection the batches reach the server in
an order that differs from run to run, so the counts may differ a little (a batch dated before one that came
first refolds its counterparties); with --connections 1 they are the same (tests/e2e/test_api_async.py checks
the decisions themselves).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import msgspec

from bench_api import HERE, Server, Workload, client_cpu, connect, workload

GOAL = 20_000  # acknowledged events/s in batches of 1,000


def post_all(server: Server, bodies: list[bytes], connections: int, later: bool) -> dict[str, Any]:
    """The batches from `connections` connections; the answers' `through` and the counts."""
    headers = {"Authorization": f"Bearer {server.ingest}", "Content-Type": "application/json"}
    if later:
        headers["Prefer"] = "respond-async"
    todo: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    for body in bodies:
        todo.put(body)
    decode = msgspec.json.Decoder().decode
    lock = threading.Lock()
    totals = {"stored": 0, "through": 0, "refused": 0, "decisions": 0}
    latencies: list[float] = []
    failures: list[str] = []

    def run() -> None:
        conn = connect(server.port)
        while True:
            try:
                body = todo.get_nowait()
            except queue.Empty:
                break
            while True:
                sent = time.perf_counter()
                conn.request("POST", "/v1/events", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                if response.status == 503 and later:  # back-pressure: wait as told, then again
                    with lock:
                        totals["refused"] += 1
                    time.sleep(float(response.getheader("Retry-After") or "1"))
                    continue
                break
            with lock:
                latencies.append(time.perf_counter() - sent)
                if response.status != (202 if later else 200):
                    failures.append(f"{response.status}: {payload[:300]!r}")
                    continue
                report = decode(payload)
                totals["stored"] += report["stored"]
                totals["decisions"] += report.get("decisions", 0)
                totals["through"] = max(totals["through"], report.get("through", 0))
        conn.close()

    own, start = client_cpu(), time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} batches failed, the first {failures[0]}")
    return {**totals, "seconds": seconds, "events_per_s": totals["stored"] / seconds, "start": start,
            "batch_p50_ms": 1000 * statistics.median(latencies), "batch_max_ms": 1000 * max(latencies),
            "client_cpu_share": (client_cpu() - own) / seconds}


def progress(server: Server) -> dict[str, Any]:
    conn = connect(server.port)
    conn.request("GET", "/v1/workspace", headers={"Authorization": f"Bearer {server.ingest}"})
    found: dict[str, Any] = json.loads(conn.getresponse().read())
    conn.close()
    return found


def decisions(server: Server) -> int:
    conn = connect(server.port)
    conn.request("GET", "/v1/decisions", headers={"Authorization": f"Bearer {server.viewer}"})
    found = json.loads(conn.getresponse().read())
    conn.close()
    return len(found)


def run_once(n: int, args: argparse.Namespace, w: Workload) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for way in ("sync", "async"):
        workdir = args.workdir / f"async-run-{n}-{way}"
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
        server = Server(workdir, args.server_cpu, workers=args.workers)
        try:
            cpu = server.cpu_seconds()
            posted = post_all(server, w.bodies, args.connections, way == "async")
            result = {"events": posted["stored"], "events_per_s": posted["events_per_s"],
                      "seconds": posted["seconds"], "batch_p50_ms": posted["batch_p50_ms"],
                      "batch_max_ms": posted["batch_max_ms"], "refused_503": posted["refused"]}
            if way == "async":
                waiting = progress(server)["pending"]
                moved, last = time.monotonic(), -1
                while (found := progress(server))["decided_through"] < posted["through"]:
                    if found["decided_through"] != last:
                        moved, last = time.monotonic(), found["decided_through"]
                    elif time.monotonic() - moved > 60:
                        raise RuntimeError(f"deciding stopped at {last} of {posted['through']}")
                    time.sleep(0.02)
                decided = time.perf_counter() - posted["start"]
                result.update(pending_at_last_ack=waiting, decided_seconds=decided,
                              deciding_events_per_s=posted["stored"] / decided, workspace=found)
            result["server_cpu_seconds"] = server.cpu_seconds() - cpu
            result["decisions"] = decisions(server)
        finally:
            server.stop()
        shutil.rmtree(workdir)
        out[way] = result
    a = out["async"]
    print(f"  run {n}: sync {out['sync']['events_per_s']:,.0f} events/s; async acknowledged "
          f"{a['events_per_s']:,.0f} events/s ({a['pending_at_last_ack']:,} waiting at the last answer, "
          f"{a['refused_503']} answered 503), all decided at {a['deciding_events_per_s']:,.0f} events/s; "
          f"decisions: {out['sync']['decisions']:,} sync, {a['decisions']:,} async", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000, help="events sent in batches of 1,000")
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="server processes (`firmly serve --workers`)")
    parser.add_argument("--connections", type=int, default=4, help="client connections posting at once")
    parser.add_argument("--server-cpu", default="0,1", help="pin the server to CPUs (-1: do not)")
    parser.add_argument("--client-cpu", type=int, default=-1, help="pin this process to a CPU (-1: do not)")
    parser.add_argument("--workdir", type=Path, default=HERE / "data")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    args.server_cpu = None if args.server_cpu == "-1" else args.server_cpu
    if args.client_cpu >= 0:
        os.sched_setaffinity(0, {args.client_cpu})
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = workload(args.clients, args.events + 100, args.seed, args.workdir)
    w = Workload(path, args.events)
    print(f"{path.name}: {args.events:,} events in {len(w.bodies)} batches", file=sys.stderr)
    load = os.getloadavg()
    runs = [run_once(n, args, w) for n in range(1, args.repeat + 1)]

    def median(way: str, key: str) -> float:
        return statistics.median(float(r[way][key]) for r in runs)

    summary = {"sync_events_per_s": median("sync", "events_per_s"),
               "async_acknowledged_events_per_s": median("async", "events_per_s"),
               "async_deciding_events_per_s": median("async", "deciding_events_per_s"),
               "async_pending_at_last_ack": median("async", "pending_at_last_ack"),
               "async_batch_p50_ms": median("async", "batch_p50_ms"),
               "sync_batch_p50_ms": median("sync", "batch_p50_ms")}
    print(f"\nmedians of {args.repeat} runs ({args.workers} server process(es), {args.connections} connections, "
          f"load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after):")
    print(f"  sync   POST /v1/events x1,000   {summary['sync_events_per_s']:>9,.0f} events/s decided "
          f"(batch p50 {summary['sync_batch_p50_ms']:.0f} ms)")
    print(f"  async  POST /v1/events x1,000   {summary['async_acknowledged_events_per_s']:>9,.0f} events/s "
          f"acknowledged (batch p50 {summary['async_batch_p50_ms']:.0f} ms)   goal >= {GOAL:,}   ratio "
          f"{summary['async_acknowledged_events_per_s'] / GOAL:.2f}")
    print(f"         deciding                 {summary['async_deciding_events_per_s']:>9,.0f} events/s (first POST to "
          f"all decided; {summary['async_pending_at_last_ack']:,.0f} waited at the last answer)")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "runs": runs,
                                             "median": summary}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
