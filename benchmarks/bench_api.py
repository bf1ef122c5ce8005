"""The HTTP API under load: `firmly serve` on SQLite in its own process, driven from this one over loopback.

    .venv/bin/python benchmarks/bench_api.py [--events 100000] [--clients 20000] [--repeat 3] \
        [--single-rate 500] [--single-seconds 10] [--get-seconds 10] [--get-connections 4] \
        [--workers 1] [--server-cpu 0] [--client-cpu 1] [--profile] [--json-out FILE]

Each repeat starts from nothing: a fresh SQLite file, `firmly init`, `firmly rulebook load
benchmarks/clinic.yaml`, an `ingest` token and a `viewer` token (`firmly token create --json`), then
`firmly serve` as a process of its own pinned to --server-cpu (`taskset`), with the per-token rate limit
off (FIRMLY_RATE_LIMIT=0) so that the limit does not cap what is measured. This process, pinned to
--client-cpu, then measures with keep-alive `http.client` connections (the lightest client in the
standard library, so that the client is not what is measured; its CPU time is reported):

1. batch: the first --events events of a generated clinic workload (generate.py: bookings, attendance,
   cancellations, no-shows, upserts over --clients clients), POST /v1/events in batches of 1,000, one
   after another on one connection, in occurred_at order -> events/s (every batch must answer 200 with
   1,000 stored);
2. single: the following events one per POST at a steady --single-rate per second for --single-seconds,
   open loop (request i is due at start + i/rate and its latency counts from then, so a slow server
   cannot hide behind a slow client) from a pool of --single-connections threads -> the rate achieved,
   p50/p99/max latency;
3. get: GET /v1/counterparties/{key} for random keys among the clients stored, --get-connections
   threads each with its own connection in a closed loop for --get-seconds -> requests/s, p50/p99.

The server's CPU time per phase comes from /proc/PID/stat. Results are the medians over --repeat.
With --profile, one more repeat runs the server with a sampling profiler (a thread that records the
Python stack of every thread every millisecond, as py-spy would; cProfile sees only the main thread and
the API does its work in a thread pool) and prints where the server's busy samples were, per phase.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec

from generate import WALL_CLOCK

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
FIRMLY = ROOT / ".venv" / "bin" / "firmly"
BATCH = 1_000
GOALS = {"batch_events_per_s": 20_000, "single_rate": 500, "single_p99_ms": 20.0, "get_per_s": 2_000}
TICKS = os.sysconf("SC_CLK_TCK")


# -- the workload ------------------------------------------------------------------------------------------
def workload(clients: int, events: int, seed: int, workdir: Path) -> Path:
    """A generated clinic .jsonl (cached under benchmarks/data/, the same bytes for the same arguments)."""
    path = workdir / f"api-{clients}c-{events}e-s{seed}.jsonl"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        from generate import generate  # noqa: PLC0415 - a sibling script, imported only when a file is missing

        generate(clients, events, path, seed)
    return path


class Workload:
    """The events sent in batches (as lines and as JSON arrays of 1,000), those sent one by one after them,
    and the clients the batches store."""

    def __init__(self, path: Path, batch_events: int) -> None:
        lines = [line for line in path.read_bytes().splitlines() if line.strip()]
        self.first, self.rest = lines[:batch_events], lines[batch_events:]
        self.bodies = [b"[" + b",".join(self.first[i:i + BATCH]) + b"]" for i in range(0, len(self.first), BATCH)]
        decode = msgspec.json.Decoder().decode
        self.keys = sorted({decode(line)["counterparty"] for line in self.first})


# -- the server ------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def firmly(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(FIRMLY), *args], env=env, capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"firmly {' '.join(args)} exited {done.returncode}: {done.stderr[-800:]}")
    return done.stdout


class Server:
    """`firmly serve` (or, profiled, the same app under the sampler of this file) in its own process."""

    def __init__(self, workdir: Path, cpu: str | None, profile_to: Path | None = None,
                 preload: list[bytes] | None = None, workers: int = 1) -> None:
        self.workdir = workdir
        db = workdir / "api.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        self.url = f"sqlite:///{db}"
        self.env = {"FIRMLY_NOW": WALL_CLOCK, **os.environ, "FIRMLY_DATABASE_URL": self.url,
                    "FIRMLY_WORKSPACE": "bench", "FIRMLY_RATE_LIMIT": "0"}
        firmly(self.env, "init", "--locale", "ru", "--timezone", "Europe/Moscow")
        firmly(self.env, "rulebook", "load", str(HERE / "clinic.yaml"))
        self.ingest = json.loads(firmly(self.env, "token", "create", "--role", "ingest", "--name", "bench",
                                        "--json"))["token"]
        self.viewer = json.loads(firmly(self.env, "token", "create", "--role", "viewer", "--name", "bench",
                                        "--json"))["token"]
        if preload:  # data for a phase that reads or adds to it, stored before the server starts
            events = workdir / "preload.jsonl"
            events.write_bytes(b"\n".join(preload) + b"\n")
            firmly(self.env, "ingest", str(events), "--json")
        self.port = free_port()
        if profile_to is None:
            argv = [str(FIRMLY), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        else:
            argv = [str(PYTHON), str(Path(__file__).resolve()), "--serve-profiled", str(profile_to),
                    "--port", str(self.port)]
        pin = ["taskset", "-c", cpu] if cpu is not None else []
        self.log = (workdir / "serve.log").open("wb")
        self.proc = subprocess.Popen([*pin, *argv], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"the server did not start: {(workdir / 'serve.log').read_text()[-800:]}")
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        """The server's user + system CPU time so far, its worker processes' included (taskset execs firmly,
        so the pid is the server's)."""
        total, todo = 0, [self.proc.pid]
        while todo:
            pid = todo.pop()
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                todo.extend(int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
            except OSError:  # gone meanwhile
                continue
            total += int(fields[11]) + int(fields[12])
        return total / TICKS

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# -- the client ------------------------------------------------------------------------------------------
def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def client_cpu() -> float:
    t = os.times()
    return t.user + t.system


def phase(server: Server, fn: Any, *args: Any) -> dict[str, Any]:
    """Run one measurement; add the server's and this process's CPU time over its wall time."""
    server_cpu, own_cpu, start = server.cpu_seconds(), client_cpu(), time.perf_counter()
    result: dict[str, Any] = fn(*args)
    wall = time.perf_counter() - start
    result["server_cpu_share"] = (server.cpu_seconds() - server_cpu) / wall
    result["client_cpu_share"] = (client_cpu() - own_cpu) / wall
    return result


def bench_batch(port: int, token: str, bodies: list[bytes]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = connect(port)
    decode = msgspec.json.Decoder().decode
    latencies, stored, decisions = [], 0, 0
    start = time.perf_counter()
    for body in bodies:
        sent = time.perf_counter()
        conn.request("POST", "/v1/events", body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - sent)
        if response.status != 200:
            raise RuntimeError(f"a batch answered {response.status}: {payload[:300]!r}")
        report = decode(payload)
        stored += report["stored"]
        decisions += report["decisions"]
    seconds = time.perf_counter() - start
    conn.close()
    if stored != sum(body.count(b'"id":') for body in bodies):
        raise RuntimeError(f"stored {stored} events, expected every one")
    tenth = max(1, len(latencies) // 10)
    return {"events": stored, "batches": len(bodies), "seconds": seconds, "events_per_s": stored / seconds,
            "decisions": decisions, "batch_p50_ms": 1000 * statistics.median(latencies),
            "batch_max_ms": 1000 * max(latencies),
            "first_tenth_events_per_s": BATCH * tenth / sum(latencies[:tenth]),
            "last_tenth_events_per_s": BATCH * tenth / sum(latencies[-tenth:])}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_single(port: int, token: str, lines: list[bytes], rate: float, seconds: float,
                 connections: int) -> dict[str, Any]:
    """Open loop: request i is due at start + i / rate; a pool of threads sends what is due."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    count = min(len(lines), int(rate * seconds))
    if count < rate * seconds:
        raise RuntimeError(f"only {len(lines)} events left for {rate * seconds:.0f} single POSTs; raise --extra")
    due: queue.Queue[tuple[float, bytes] | None] = queue.Queue()
    done: list[tuple[float, float, float, int]] = []  # due, sent, answered, status
    lock = threading.Lock()

    def worker() -> None:
        conn = connect(port)
        mine = []
        while (job := due.get()) is not None:
            at, body = job
            sent = time.perf_counter()
            conn.request("POST", "/v1/events", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((at, sent, time.perf_counter(), response.status))
        conn.close()
        with lock:
            done.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    start = time.perf_counter() + 0.05
    for i in range(count):
        at = start + i / rate
        pause = at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        due.put((at, lines[i]))
    for _ in threads:
        due.put(None)
    for t in threads:
        t.join()
    bad = [s for *_, s in done if s != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} single POSTs failed, e.g. status {bad[0]}")
    latency = [1000 * (answered - at) for at, _, answered, _ in done]
    service = [1000 * (answered - sent) for _, sent, answered, _ in done]
    span = max(a for _, _, a, _ in done) - start
    return {"requests": len(done), "seconds": span, "rate": len(done) / span, "p50_ms": percentile(latency, 0.5),
            "p99_ms": percentile(latency, 0.99), "max_ms": max(latency),
            "service_p50_ms": percentile(service, 0.5), "service_p99_ms": percentile(service, 0.99)}


def bench_get(port: int, token: str, keys: list[str], seconds: float, connections: int,
              path: str = "/v1/counterparties/{key}", status: int = 200) -> dict[str, Any]:
    """`connections` threads, each with its own keep-alive connection, GET `path` (a random key in it)
    in a closed loop for `seconds`; every answer must have `status`."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        conn = connect(port)
        mine, codes = [], Counter[int]()
        while (now := time.perf_counter()) < stop_at:
            conn.request("GET", path.format(key=rng.choice(keys)), headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - now)
            codes[response.status] += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if set(statuses) != {status}:
        raise RuntimeError(f"GET {path} answered {dict(statuses)}")
    ms = [1000 * x for x in latencies]
    return {"requests": len(ms), "seconds": wall, "per_s": len(ms) / wall, "p50_ms": percentile(ms, 0.5),
            "p99_ms": percentile(ms, 0.99)}


def run_once(n: int, args: argparse.Namespace, w: Workload) -> dict[str, Any]:
    workdir = args.workdir / f"api-run-{n}"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    server = Server(workdir, args.server_cpu, workers=args.workers)
    singles = int(args.single_rate * args.single_seconds)
    try:
        batch = phase(server, bench_batch, server.port, server.ingest, w.bodies)
        single = phase(server, bench_single, server.port, server.ingest, w.rest[:singles], args.single_rate,
                       args.single_seconds, args.single_connections)
        serial = phase(server, bench_serial, server.port, server.ingest, w.rest[singles:singles + args.serial])
        get = phase(server, bench_get, server.port, server.viewer, w.keys, args.get_seconds, args.get_connections)
    finally:
        server.stop()
    shutil.rmtree(workdir)
    print(f"  run {n}: batch {batch['events_per_s']:,.0f} events/s (first tenth "
          f"{batch['first_tenth_events_per_s']:,.0f}, last {batch['last_tenth_events_per_s']:,.0f}); "
          f"single {single['rate']:.0f}/s "
          f"p50 {single['p50_ms']:.1f} ms p99 {single['p99_ms']:.1f} ms (one at a time: {serial['ms']:.2f} ms "
          f"each); get {get['per_s']:,.0f}/s p99 {get['p99_ms']:.1f} ms", file=sys.stderr)
    return {"batch": batch, "single": single, "single_serial": serial, "get": get}


def bench_serial(port: int, token: str, lines: list[bytes]) -> dict[str, Any]:
    """Single-event POSTs one after another on one connection: the cost of one with nothing else running."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = connect(port)
    times = []
    for body in lines:
        sent = time.perf_counter()
        conn.request("POST", "/v1/events", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        times.append(1000 * (time.perf_counter() - sent))
        if response.status != 200:
            raise RuntimeError(f"a single POST answered {response.status}")
    conn.close()
    return {"requests": len(times), "ms": statistics.mean(times), "p50_ms": percentile(times, 0.5),
            "p99_ms": percentile(times, 0.99)}


# -- the profiled server (the server side of --profile) ---------------------------------------------------
def serve_profiled(out: Path, port: int) -> None:
    """`firmly serve` in this process under cProfile, on every thread: the event loop's thread from start to
    stop, and each call the API hands to the thread pool (where it does its work: FastAPI runs sync routes
    there, and POST /v1/events its ingest) under a profiler of that pool thread. The merged stats go to `out`."""
    import cProfile  # noqa: PLC0415 - only the profiled server needs these
    import pstats  # noqa: PLC0415

    import anyio.to_thread  # noqa: PLC0415
    import uvicorn  # noqa: PLC0415

    from firmly import bootstrap  # noqa: PLC0415
    from firmly.doors.api import create_app  # noqa: PLC0415

    bootstrap.store(None, None).migrate()
    profilers: list[cProfile.Profile] = []
    local = threading.local()
    original = anyio.to_thread.run_sync

    async def run_sync(func: Any, *args: Any, **kwargs: Any) -> Any:
        def profiled(*inner: Any) -> Any:
            prof = getattr(local, "prof", None)
            if prof is None:
                prof = local.prof = cProfile.Profile()
                profilers.append(prof)
            prof.enable()
            try:
                return func(*inner)
            finally:
                prof.disable()

        return await original(profiled, *args, **kwargs)

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]
    main_thread = cProfile.Profile()
    main_thread.enable()
    try:
        uvicorn.run(create_app(None), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    finally:
        main_thread.disable()
        stats = pstats.Stats(main_thread)
        for prof in profilers:
            stats.add(prof)
        stats.dump_stats(str(out))


def profile_phase(name: str, args: argparse.Namespace, w: Workload) -> dict[str, Any]:
    """One phase against a profiled server (for single and get, the batch events are stored by
    `firmly ingest` before it starts, so that they are not in the profile); then its top functions."""
    workdir = args.workdir / f"api-profile-{name}"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    prof = workdir / f"{name}.prof"
    server = Server(workdir, args.server_cpu, prof, None if name == "batch" else w.first)
    singles = int(args.single_rate * args.single_seconds)
    try:
        start = time.perf_counter()
        if name == "batch":
            result = bench_batch(server.port, server.ingest, w.bodies)
        elif name == "single":
            result = bench_single(server.port, server.ingest, w.rest[:singles], args.single_rate,
                                  args.single_seconds, args.single_connections)
        elif name == "single_serial":
            result = bench_serial(server.port, server.ingest, w.rest[:args.serial])
        else:
            result = bench_get(server.port, server.viewer, w.keys, args.get_seconds, args.get_connections)
        wall = time.perf_counter() - start
    finally:
        server.stop()
    sys.path.insert(0, str(HERE))
    from profiles import summarise  # noqa: PLC0415 - a sibling module

    total, rows = summarise(str(prof), f"server during {name}", args.top, wall)
    by_tottime = sorted(rows, key=lambda r: r["tottime"], reverse=True)[: args.top]
    by_cumtime = sorted(rows, key=lambda r: r["cumtime"], reverse=True)[: args.top * 3]
    return {"measured_under_profile": result, "wall_s": wall, "total_s": total, "top_tottime": by_tottime,
            "top_cumtime": by_cumtime}


# -- the pieces, without HTTP -------------------------------------------------------------------------------
FLOORS = (("GET /v1/nowhere: a 404 through the middlewares, no token, no route", "/v1/nowhere", 404),
          ("GET /healthz: the thread pool and SELECT 1", "/healthz", 200),
          ("GET /v1/rulebooks: the token, the thread pool, one read transaction", "/v1/rulebooks", 200))


def http_floors(args: argparse.Namespace, w: Workload) -> dict[str, Any]:
    """What the HTTP layers cost by themselves: requests/s of cheap endpoints, like the GET phase."""
    workdir = args.workdir / "api-floors"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    server = Server(workdir, args.server_cpu)
    out = {}
    try:
        for label, path, status in FLOORS:
            got = phase(server, bench_get, server.port, server.viewer, w.keys, min(args.get_seconds, 5.0),
                        args.get_connections, path, status)
            out[path] = got
            print(f"  {label}: {got['per_s']:,.0f}/s ({1000 / got['per_s']:.2f} ms of server each at "
                  f"{100 * got['server_cpu_share']:.0f}% CPU)", file=sys.stderr)
    finally:
        server.stop()
    shutil.rmtree(workdir)
    return out


def bench_pieces(args: argparse.Namespace, w: Workload) -> dict[str, Any]:
    """The same work through the service layer in this process (no HTTP, no server), on a fresh SQLite
    file: what the API's own layers add is the difference."""
    from firmly import bootstrap  # noqa: PLC0415 - the client side does not need firmly otherwise
    from firmly.domain.clock import parse_instant  # noqa: PLC0415
    from firmly.service import ingest, queries, rulebooks, workspace  # noqa: PLC0415

    workdir = args.workdir / "api-pieces"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    store = bootstrap.store(f"sqlite:///{workdir / 'pieces.db'}", "bench")
    now = parse_instant(os.environ.get("FIRMLY_NOW") or WALL_CLOCK)  # as the server's runs
    workspace.init(store, "ru", "Europe/Moscow", now)
    rulebooks.load(store, rulebooks.read(HERE / "clinic.yaml"), now)
    decode = msgspec.json.Decoder().decode

    decoding = storing = 0.0
    for body in w.bodies:
        t0 = time.perf_counter()
        batch = ingest.parsed("body", decode(body))
        t1 = time.perf_counter()
        ingest.ingest(store, batch, detailed=True, now=now)
        decoding, storing = decoding + t1 - t0, storing + time.perf_counter() - t1
    events = len(w.first)
    singles = w.rest[:args.serial]
    t0 = time.perf_counter()
    for line in singles:
        ingest.ingest(store, ingest.parsed("body", [decode(line)]), detailed=True, now=now)
    single_s = time.perf_counter() - t0
    rng = random.Random(1)
    picks = [rng.choice(w.keys) for _ in range(2000)]
    t0 = time.perf_counter()
    for key in picks:
        queries.counterparty(store, key)
    page_s = time.perf_counter() - t0
    shutil.rmtree(workdir)
    floors = http_floors(args, w)
    result = {"http_floors": floors, "batch_events_per_s": events / (decoding + storing),
              "decode_validate_us_per_event": 1e6 * decoding / events, "ingest_us_per_event": 1e6 * storing / events,
              "single_ms_per_event": 1000 * single_s / len(singles),
              "counterparty_page_ms": 1000 * page_s / len(picks)}
    print(f"  without HTTP: batches {result['batch_events_per_s']:,.0f} events/s (decode+validate "
          f"{result['decode_validate_us_per_event']:.1f} us/event, ingest {result['ingest_us_per_event']:.1f}); "
          f"one event {result['single_ms_per_event']:.2f} ms; counterparty page "
          f"{result['counterparty_page_ms']:.2f} ms", file=sys.stderr)
    return result


# -- main ------------------------------------------------------------------------------------------------
def median_of(runs: list[dict[str, Any]], phase_name: str, key: str) -> float:
    return float(statistics.median(r[phase_name][key] for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000, help="events sent in batches of 1,000")
    parser.add_argument("--clients", type=int, default=20_000, help="clients of the generated workload")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="fresh database and server each time")
    parser.add_argument("--single-rate", type=float, default=500.0, help="single-event POSTs per second")
    parser.add_argument("--single-seconds", type=float, default=10.0)
    parser.add_argument("--single-connections", type=int, default=16, help="threads sending the due POSTs")
    parser.add_argument("--serial", type=int, default=1000, help="single POSTs one at a time, after those")
    parser.add_argument("--get-seconds", type=float, default=10.0)
    parser.add_argument("--get-connections", type=int, default=4)
    parser.add_argument("--server-cpu", default="0", help="pin the server to CPUs: 0 or 0,1 (-1: no)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (`firmly serve --workers`)")
    parser.add_argument("--client-cpu", type=int, default=1, help="pin this process to this CPU (-1: do not)")
    parser.add_argument("--pieces", action="store_true", help="also time the same work without HTTP")
    parser.add_argument("--profile", action="store_true", help="also run each phase against a profiled server")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=HERE / "data")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--serve-profiled", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_profiled is not None:
        serve_profiled(args.serve_profiled, args.port)
        return
    args.server_cpu = None if args.server_cpu == "-1" else args.server_cpu
    if args.client_cpu >= 0:
        os.sched_setaffinity(0, {args.client_cpu})
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    singles = int(args.single_rate * args.single_seconds)
    path = workload(args.clients, args.events + singles + args.serial + 100, args.seed, args.workdir)
    w = Workload(path, args.events)
    print(f"{path.name}: {args.events:,} events in {len(w.bodies)} batches, {len(w.rest):,} for single POSTs, "
          f"{len(w.keys):,} clients", file=sys.stderr)
    load_before = os.getloadavg()
    runs = [run_once(n, args, w) for n in range(1, args.repeat + 1)]
    summary = {
        "batch_events_per_s": median_of(runs, "batch", "events_per_s"),
        "single_rate": median_of(runs, "single", "rate"),
        "single_p50_ms": median_of(runs, "single", "p50_ms"),
        "single_p99_ms": median_of(runs, "single", "p99_ms"),
        "single_serial_ms": median_of(runs, "single_serial", "ms"),
        "get_per_s": median_of(runs, "get", "per_s"),
        "get_p99_ms": median_of(runs, "get", "p99_ms"),
    }
    ratios = {"batch_events_per_s": summary["batch_events_per_s"] / GOALS["batch_events_per_s"],
              "single_rate": summary["single_rate"] / GOALS["single_rate"],
              "single_p99_ms": summary["single_p99_ms"] / GOALS["single_p99_ms"],  # below 1 is good
              "get_per_s": summary["get_per_s"] / GOALS["get_per_s"]}
    result: dict[str, Any] = {"workload": str(path), "events": args.events, "clients": len(w.keys),
                              "args": {k: str(v) for k, v in vars(args).items()}, "runs": runs,
                              "median": summary, "goals": GOALS, "ratio_to_goal": ratios,
                              "loadavg_before_after": [load_before, os.getloadavg()]}
    if args.pieces:
        result["pieces"] = bench_pieces(args, w)
    if args.profile:
        result["profile"] = {name: profile_phase(name, args, w) for name in ("batch", "single", "single_serial",
                                                                             "get")}
    print(f"\nmedians of {args.repeat} runs ({args.workers} server process(es) on CPU {args.server_cpu}, client on "
          f"CPU {args.client_cpu}; "
          f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after):")
    print(f"  batch  POST /v1/events x1,000  {summary['batch_events_per_s']:>9,.0f} events/s   goal >= 20,000   "
          f"ratio {ratios['batch_events_per_s']:.2f}")
    print(f"  single POST /v1/events         {summary['single_rate']:>9,.0f} /s at p50 "
          f"{summary['single_p50_ms']:.1f} ms, p99 {summary['single_p99_ms']:.1f} ms   goal 500/s, p99 <= 20 ms   "
          f"p99 ratio {ratios['single_p99_ms']:.2f}; one at a time {summary['single_serial_ms']:.2f} ms each")
    print(f"  GET /v1/counterparties/{{key}}  {summary['get_per_s']:>9,.0f} requests/s (p99 "
          f"{summary['get_p99_ms']:.1f} ms)   goal >= 2,000   ratio {ratios['get_per_s']:.2f}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
