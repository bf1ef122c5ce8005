"""Many processes on one PostgreSQL database: three `firmly serve` (deciding left to others), two `firmly decide`,
workers sending to an aiosmtpd server, a clinic workload posted through all the servers at once, deciders and
workers killed with SIGKILL and started again. What they leave is dumped canonically, to compare with a single
process's ingest of the same events on SQLite. Used by tests/e2e/test_many_processes.py and
benchmarks/bench_many.py (which runs it at 200,000 events)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
from sqlalchemy import create_engine, text

from firmly import bootstrap
from firmly.domain.clock import parse_instant
from firmly.domain.ports import Store
from firmly.doors.web import testing
from firmly.service import clock, ingest, own_page, rulebooks, tokens, workspace
from tests.conftest import _CREATE_ROLE, _driver, _pg_admin_url, as_app, database_of_its_own

ROOT = Path(__file__).resolve().parents[2]
RULEBOOK = ROOT / "benchmarks" / "clinic.yaml"
NAME = "clinic"  # the workspace, named alike on both databases: the own-page links in the letters name it
SECRET = "many-processes-page-secret"  # the same signing secret on both: the letters' links come out alike
ASYNC = {"Prefer": "respond-async"}


def workload(out: Path, events: int, clients: int, seed: int = 5, weeks: int = 6) -> tuple[list[dict[str, Any]], str]:
    """The clinic benchmark's events (benchmarks/generate.py), its year pressed into `weeks` ending two hours
    before the wall clock of now (every moment moved toward the last event, so notice periods shrink alike and
    many decisions are recent enough to be told), every upserted client with an email; and that wall clock
    (the servers' FIRMLY_NOW, so that every process judges arrivals alike)."""
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--events", str(events), "--clients",
                    str(clients), "--seed", str(seed), "--out", str(out)], check=True, capture_output=True)
    found = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    wall = datetime.now(UTC).replace(microsecond=0)
    moments = [datetime.fromisoformat(ev["occurred_at"]) for ev in found]
    first, last = min(moments), max(moments)
    end = wall - timedelta(hours=2)
    scale = timedelta(weeks=weeks) / (last - first)

    def moved(stamp: str) -> str:
        at = datetime.fromisoformat(stamp)
        return (end - (last - at) * scale).replace(microsecond=0).astimezone(at.tzinfo).isoformat()

    for ev in found:
        ev["occurred_at"] = moved(ev["occurred_at"])
        if "starts_at" in ev["data"]:
            ev["data"]["starts_at"] = moved(ev["data"]["starts_at"])
        if ev["type"] == "counterparty.upserted":
            ev["data"]["email"] = f"{ev['counterparty']}@clinic.test"
    return found, wall.isoformat()


@contextmanager
def app_database(prefix: str) -> Iterator[str]:
    """For a benchmark: a fresh database on FIRMLY_TEST_POSTGRES_URL's server, made by the tests' role (so that
    row-level security binds it, as in the tests); its URL as that role; dropped afterwards."""
    admin = create_engine(_driver(_pg_admin_url()), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(_CREATE_ROLE))
    admin.dispose()
    with database_of_its_own(as_app(_pg_admin_url()), prefix) as url:
        yield url


def prepare(url: str, wall: str) -> tuple[str, str]:
    """The workspace with the clinic rulebook, letters sent at any hour and as many a day as due; an admin and
    an ingest token."""
    store = bootstrap.store(url, NAME)
    now = parse_instant(wall)
    workspace.init(store, "ru", "Europe/Moscow", now)
    rulebooks.load(store, rulebooks.read(RULEBOOK), now)
    with store.write():
        store.set_setting("quiet_hours", "off")
        store.set_setting("daily_limit", "1000")
        store.set_setting(own_page.SECRET, SECRET)
    return tokens.create(store, "admin", "admin", now).token, tokens.create(store, "ingest", "crm", now).token


def reference(url: str, events: list[dict[str, Any]], wall: str, end: int) -> Store:
    """One process, one ingest of every event in file order at the wall clock `wall`, then the clock moved to
    `end` (as the workers move it, on the wall clock of their own): what the many processes must agree with."""
    prepare(url, wall)
    store = bootstrap.store(url, NAME)
    report = ingest.ingest(store, ingest.parsed("events", events), now=parse_instant(wall))
    assert not report.rejected, report.rejected[:3]
    clock.tick(store, end, now=end)
    return store


def dump(store: Store) -> dict[str, Any]:
    """The canonical dump: the decisions in force (not superseded) with their ids, actions, statuses and
    explanations; every counterparty's state; the ledger; the outbox without send times, attempts or claims."""
    with store.read():
        decisions = sorted((d for d in store.decisions() if d.get("status") != "superseded"),
                           key=lambda d: str(d["id"]))
        keys = sorted({str(d["counterparty"]) for d in store.decisions()} | {str(e.counterparty)
                                                                             for e in store.all_events()})
        states = store.load_states(keys)
        postings = {k: store.postings(k) for k in keys}
        letters = sorted((r.id, r.decision, r.counterparty, r.channel, r.recipient, r.subject, r.body,
                          r.attachment) for r in store.outbox(limit=10**9))
    plain = {k: msgspec.to_builtins(st) for k, st in states.items()}
    # How far each counterparty's timers were fired: a worker's tick in the middle of the ingest moves it past
    # events that arrive after (they are folded again, as late ones), so it is kept apart from the state
    fired = {k: st.pop("fired_until") for k, st in plain.items()}
    canonical = json.dumps({"decisions": decisions, "states": plain, "fired_until": fired, "postings": postings,
                            "outbox": letters}, sort_keys=True, default=_plain)
    found: dict[str, Any] = json.loads(canonical)
    return found


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


@dataclass
class Fleet:
    """The processes, started and stopped by role; a killed one is started again in its place."""
    env: dict[str, str]
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    kills: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)  # seconds of CPU of the processes that ended, by role

    def start(self, name: str, *args: str) -> None:
        env = dict(self.env)
        if name.startswith("worker"):
            env.pop("FIRMLY_NOW")
        with (self.logs / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen([sys.executable, "-m", "firmly", *args], env=env,
                                                    stdout=log, stderr=subprocess.STDOUT)

    def kill(self, name: str, *args: str) -> None:
        """SIGKILL, then the same command again."""
        process = self.processes[name]
        self._account(name, process)
        process.kill()
        process.wait()
        self.kills[name.rstrip("0123456789")] += 1
        self.start(name, *args)

    def _account(self, name: str, process: subprocess.Popen[bytes]) -> None:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return
        self.cpu[name] = self.cpu.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stopped(self) -> list[str]:
        """The processes that ended of themselves (not killed, or killed and started again)."""
        return [name for name, process in self.processes.items() if process.poll() is not None]

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for name, process in self.processes.items():
            self._account(name, process)
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def fleet(url: str, wall: str, smtp_url: str, logs: Path, servers: int = 3, deciders: int = 2,
          workers: int = 2) -> Iterator[tuple[Fleet, list[str]]]:
    """The servers and deciders judge arrivals by the fixed wall clock `wall`; the workers run on the wall clock
    of their own (their claims' leases do, and a fixed clock would never see a killed worker's run out)."""
    env = {**os.environ, "FIRMLY_DATABASE_URL": url, "FIRMLY_NOW": wall, "FIRMLY_SERVE_DECIDES": "0",
           "FIRMLY_RATE_LIMIT": "0", "FIRMLY_SMTP_URL": smtp_url, "FIRMLY_SEND_TIMEOUT": "5",
           "FIRMLY_ASYNC_BACKLOG": "1000000"}
    env.pop("FIRMLY_WORKER_MARK", None)  # each: a worker killed mid-batch sends again at most the one in flight
    crew = Fleet(env, logs)
    bases = []
    try:
        for n in range(servers):
            port = free_port()
            crew.start(f"serve{n}", "serve", "--port", str(port))
            bases.append(f"http://127.0.0.1:{port}")
        for n in range(deciders):
            crew.start(f"decide{n}", "decide", "--interval", "0.1")
        for n in range(workers):
            crew.start(f"worker{n}", "worker", "--interval", "0.5")
        for n, base in enumerate(bases):
            process = crew.processes[f"serve{n}"]
            testing.wait_until_healthy(base, lambda p=process: p.poll() is None, 90, 0.1)  # type: ignore[misc]
        yield crew, bases
    finally:
        crew.stop()


def post_all(bases: list[str], token: str, events: list[dict[str, Any]], batch: int, mixed: bool = False,
             every: int = 2) -> float:
    """Every event posted through the servers at once, a sender per server, every `every`th batch with
    `Prefer: respond-async` (1: all of them, 0: none): each counterparty's events by one sender, in order; or, `mixed`,
    the file's batches dealt to the senders in turn, so that a counterparty's events arrive in any order.
    Returns the seconds until the last answer."""
    streams: list[list[dict[str, Any]]] = [[] for _ in bases]
    for n, ev in enumerate(events):
        which = n // batch if mixed else zlib.crc32(ev["counterparty"].encode())
        streams[which % len(bases)].append(ev)
    failures: list[str] = []

    def send(base: str, stream: list[dict[str, Any]]) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
            for n, start in enumerate(range(0, len(stream), batch)):
                later = ASYNC if every and (n + 1) % every == 0 else {}
                answer = client.post("/v1/events", json=stream[start:start + batch], headers=later)
                if answer.status_code not in (200, 202) or answer.json().get("rejected"):
                    failures.append(f"{base}: {answer.status_code} {answer.text[:300]}")
                    return

    began = time.monotonic()
    senders = [threading.Thread(target=send, args=(b, s)) for b, s in zip(bases, streams, strict=True)]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    assert not failures, failures
    return time.monotonic() - began


def havoc(crew: Fleet, stop: threading.Event, seed: int = 11) -> threading.Thread:
    """Until `stop`: every 0.3 to 1.2 seconds, a decider and a worker in turn killed with SIGKILL and started
    again."""
    rng = random.Random(seed)

    def run() -> None:
        turn = 0
        while not stop.wait(rng.uniform(0.3, 1.2)):
            if turn % 2 == 0:
                crew.kill("decide0", "decide", "--interval", "0.1")
            else:
                crew.kill("worker0", "worker", "--interval", "0.5")
            turn += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def waiting(url: str) -> tuple[int, int]:
    """(events waiting to be decided, messages due and not yet sent), read without deciding anything."""
    store = bootstrap.store(url, NAME, settled=False)
    now = time.time_ns() // 1000
    with store.read():
        ws = store.workspace_info()
        assert ws is not None
        unsent = [r for r in store.outbox(limit=10**9)
                  if r.status == "sending" or (r.status == "pending" and r.next_at <= now)]
    return ws.pending, len(unsent)


def settle_down(url: str, seconds: float) -> float:
    """Until nothing waits to be decided or sent (AssertionError after `seconds`); returns the seconds taken."""
    began = time.monotonic()
    while waiting(url) != (0, 0):
        assert time.monotonic() - began < seconds, f"still waiting (events, messages): {waiting(url)}"
        time.sleep(0.2)
    return time.monotonic() - began
