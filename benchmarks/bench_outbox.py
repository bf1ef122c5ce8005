"""The outbox worker: emails per second to a local SMTP server, and memory over a long drain.

    .venv/bin/python benchmarks/bench_outbox.py emails [--messages 5000] [--runs 5] [--db URL] [--pin] \
        [--profile] [--json-out FILE]
    .venv/bin/python benchmarks/bench_outbox.py memory [--messages 100000] [--db URL] [--pin] [--json-out FILE]
    .venv/bin/python benchmarks/bench_outbox.py workers [--messages 150] [--workers 2] [--delay 1] \
        [--send-timeout 30] [--mark batch|each] [--src DIR] [--db URL] [--json-out FILE]

--pin puts the worker (this process) on CPU 0 and the SMTP server on CPU 1.

The due messages are real reminders: a workspace under `benchmarks/clinic.yaml` (reminders 48h and 3h
before a visit), --messages clients each with an email address (half `ru`, half `en`) and one visit
booked three days ahead; `firmly.service.clock.tick` to the 48-hour mark fires one reminder per client
and `outbox.letters` writes its email in the same transaction. Built once per --messages and --db (SQLite:
kept in benchmarks/data/; --rebuild builds it again); before each run every message is set back to
pending, due at the reminder's time.

The SMTP server is aiosmtpd in another process (loopback, a fresh port), counting what it accepts. A run
is `firmly.service.worker.drain` at the reminder's time with the channels `firmly worker` wires (the real
`SmtpSender`: one connection kept open across the batch), quiet hours off; the server's count must equal
--messages afterwards.

`emails` reports, each the median of --runs:
1. the whole drain: emails/s (the goal: 500/s);
2. its parts, the same messages each: through `SmtpSender.send` over one connection without the outbox
   (building and SMTP); built beforehand and sent with plain `smtplib.sendmail` (SMTP and the server
   alone); built alone (the EmailMessage `SmtpSender.send` makes, serialised as it is sent; and, for
   comparison, the same message made with `email.mime.text.MIMEText`, `email.header.Header` and the
   compat32 policy); and the
   drain with a Mail that sends nothing (claims, the daily count, marking each message sent);
with --profile, cProfile's top functions of one more drain.

`workers` starts --workers `firmly worker` processes on the wall clock (FIRMLY_SEND_TIMEOUT=--send-timeout,
rounds every 0.2 s) against a server that takes --delay seconds to accept each message and notes every
Message-ID it accepts again; it reports the time until every message is marked sent (beside the ideal,
messages × delay / workers), what the server accepted, the repeated Message-IDs (the goal: none) and, per
worker, what it sent and what was taken over from it when its claim ran out; and the rate from the first
message the server accepts to the last one marked sent (with --delay 0: the workers' emails/s). --mark sets
FIRMLY_WORKER_MARK (each, the default, or batch); --src runs the workers from another source tree (another
commit's `src`, for a before/after in one run).

`memory` drains --messages (default 100,000) once and records the process's resident memory (current RSS
from /proc/self/statm and the peak, ru_maxrss) before the drain, after 1%, 25%, 50%, 75% of the messages
and at the end: a drain that holds what it sent would grow with the count.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import re
import resource
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.utils import formataddr
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

from firmly import bootstrap
from firmly.adapters.mail import SmtpSender
from firmly.adapters.sql.store import SqlStore
from firmly.domain.clock import iso, parse_instant
from firmly.domain.errors import StorageError
from firmly.domain.events import validate
from firmly.service import clock, ingest, outbox, rulebooks, worker, workspace
from profiles import summarise

HERE = Path(__file__).resolve().parent
GOAL_EMAILS_PER_S = 500
BOOKED = "2026-03-02T10:00:00+03:00"  # every visit is booked at this moment ...
VISIT = "2026-03-05T14:00:00+03:00"  # ... for this one, so the 48-hour reminder is due at:
DUE = "2026-03-03T14:00:00+03:00"
WORKSPACE = "bench-outbox"
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- the SMTP server, in its own process -------------------------------------------------------------
def _serve(port: int, count: Synchronized[int], ready: EventType, stop: EventType, cpu: int | None,
           delay: float = 0.0, repeats: Synchronized[int] | None = None) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    import asyncio  # noqa: PLC0415 - loaded in the server process only
    import re  # noqa: PLC0415

    from aiosmtpd.controller import Controller  # noqa: PLC0415
    from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: PLC0415

    seen: set[bytes] = set()

    class Counting:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            if delay:  # a slow server: each message takes this long to be accepted
                await asyncio.sleep(delay)
            with count.get_lock():
                count.value += 1
            if repeats is not None:  # Message-IDs accepted before
                found = re.search(rb"^Message-ID:\s*(\S+)", envelope.original_content or b"", re.M | re.I)
                key = found.group(1) if found else b""
                if key in seen:
                    with repeats.get_lock():
                        repeats.value += 1
                seen.add(key)
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class Server:
    def __init__(self, cpu: int | None = None, delay: float = 0.0) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port: int = s.getsockname()[1]
        ctx = multiprocessing.get_context("spawn")
        self.count: Synchronized[int] = ctx.Value("q", 0)
        self.repeats: Synchronized[int] = ctx.Value("q", 0)
        self.ready, self.stop = ctx.Event(), ctx.Event()
        self.process = ctx.Process(target=_serve, args=(self.port, self.count, self.ready, self.stop, cpu, delay,
                                                        self.repeats), daemon=True)

    def __enter__(self) -> Server:
        self.process.start()
        if not self.ready.wait(30):
            raise RuntimeError("the SMTP server did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.process.join(10)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def accepted(self) -> int:
        return int(self.count.value)

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value = 0


def pin(args: argparse.Namespace) -> int | None:
    """--pin: this process (the worker) on CPU 0, the SMTP server on CPU 1; returns the server's CPU."""
    if not args.pin:
        return None
    os.sched_setaffinity(0, {0})
    return 1


# -- the workspace with its due reminders ---------------------------------------------------------------
def database(args: argparse.Namespace) -> str:
    if args.db:
        return str(args.db)
    args.workdir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{args.workdir / f'outbox-{args.messages}.db'}"


def build(url: str, messages: int) -> SqlStore:
    store = bootstrap.store(url, WORKSPACE)
    workspace.init(store, None, "Europe/Moscow", 0)
    rulebooks.load(store, rulebooks.read(HERE / "clinic.yaml"), 0)
    for name, value in (("quiet_hours", "off"), ("sender_name", "Клиника «Здоровье»")):
        outbox.set_setting(store, name, value)

    def events() -> Any:
        for i in range(messages):
            key = f"c{i:06d}"
            yield "bench", 0, validate({
                "id": f"{key}-cp", "type": "counterparty.upserted", "counterparty": key, "occurred_at": BOOKED,
                "data": {"kind": "client", "name": f"Client {i}", "email": f"{key}@example.org",
                         "locale": "ru" if i % 2 else "en"}})
            yield "bench", 0, validate({
                "id": f"{key}-b", "type": "appointment.booked", "counterparty": key, "occurred_at": BOOKED,
                "data": {"appointment": f"{key}-v", "starts_at": VISIT}})

    started = time.perf_counter()
    report = ingest.ingest(store, events(), now=parse_instant(BOOKED))  # live: booked as it happens
    assert not report.rejected and report.stored == 2 * messages, report.as_dict()
    tick = clock.tick(store, parse_instant(DUE), now=parse_instant(DUE))
    with store.read():
        written = store.c.exec_driver_sql("SELECT count(*) FROM outbox WHERE status = 'pending'").scalar_one()
    assert written == messages, f"{written} messages written for {messages} reminders ({tick})"
    print(f"built {messages} due reminders in {url.rsplit('/', 1)[-1]} in {time.perf_counter() - started:.1f}s")
    return store


def prepared(args: argparse.Namespace) -> SqlStore:
    """The workspace, every message pending again and due at the reminder's time."""
    url = database(args)
    store = bootstrap.store(url, WORKSPACE)
    rebuild = args.rebuild
    if not rebuild:
        try:
            with store.read():
                count = store.c.exec_driver_sql("SELECT count(*) FROM outbox").scalar_one()
            rebuild = count != args.messages
        except Exception:  # no such table: nothing built yet
            rebuild = True
    if rebuild:
        if not url.startswith("sqlite:///"):
            try:
                with store.read():
                    exists = store.workspace_info() is not None
            except StorageError:  # a fresh database: nothing in it yet
                exists = False
            if exists:
                raise SystemExit(f"workspace {WORKSPACE} in {url} holds another number of messages: "
                                 "use a fresh database")
        else:
            bootstrap.engine(url).dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        store = build(url, args.messages)
    with store.write():
        store.c.exec_driver_sql(
            "UPDATE outbox SET status = 'pending', attempts = 0, sent_at = NULL, error = NULL, claim = NULL, next_at = "
            + str(parse_instant(DUE)))
    return store


# -- measurements -----------------------------------------------------------------------------------------
def rss() -> dict[str, float]:
    with open("/proc/self/statm") as f:
        current = int(f.read().split()[1]) * PAGE
    return {"rss_mib": round(current / 2**20, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


class Watched:
    """The worker's Mail with resident memory recorded after chosen numbers of messages."""

    def __init__(self, mail: worker.Mail, marks: dict[int, str]) -> None:
        self.mail, self.marks, self.sent = mail, marks, 0
        self.samples: list[dict[str, Any]] = []
        self.started = time.perf_counter()

    def send(self, to: str, subject: str, body: str, *, from_name: str = "", reply_to: str | None = None,
             message_id: str = "", attachments: tuple[tuple[str, bytes, str], ...] = (),
             from_addr: str | None = None) -> None:
        self.mail.send(to, subject, body, from_name=from_name, reply_to=reply_to, message_id=message_id,
                       attachments=attachments, from_addr=from_addr)
        self.sent += 1
        if self.sent in self.marks:
            self.samples.append({"at": self.marks[self.sent], "sent": self.sent, **rss()})
            print(f"  {self.marks[self.sent]:>4} sent after {time.perf_counter() - self.started:.0f}s", flush=True)

    def close(self) -> None:
        self.mail.close()


def drain_once(store: SqlStore, url: str, server: Server, mail: worker.Mail | None = None,
               profile: cProfile.Profile | None = None) -> tuple[float, worker.Round]:
    server.reset()
    wire = bootstrap.channels()  # what `firmly worker` wires (the invoice PDF, webhooks) ...
    wire.mail = mail or SmtpSender(server.url, "bench@firmly.test")  # ... to this server

    def store_for(name: str) -> SqlStore:
        return bootstrap.store(url, name or None)

    started = time.perf_counter()
    if profile is not None:
        profile.enable()
    done = worker.drain(store_for, parse_instant(DUE), wire)
    if profile is not None:
        profile.disable()
    seconds = time.perf_counter() - started
    if isinstance(wire.mail, SmtpSender):
        wire.mail.close()
    if done.sent != server.accepted() or done.errors:
        raise RuntimeError(f"sent {done.sent}, the server accepted {server.accepted()}; {done.errors[:3]}")
    return seconds, done


class Timed:
    """The worker's Mail, timing what happens inside `send` (building the message and SMTP)."""

    def __init__(self, mail: worker.Mail) -> None:
        self.mail, self.seconds = mail, 0.0

    def send(self, to: str, subject: str, body: str, *, from_name: str = "", reply_to: str | None = None,
             message_id: str = "", attachments: tuple[tuple[str, bytes, str], ...] = (),
             from_addr: str | None = None) -> None:
        started = time.perf_counter()
        try:
            self.mail.send(to, subject, body, from_name=from_name, reply_to=reply_to, message_id=message_id,
                           attachments=attachments, from_addr=from_addr)
        finally:
            self.seconds += time.perf_counter() - started

    def close(self) -> None:
        self.mail.close()


class NoMail:
    """A Mail that sends nothing: the drain's own cost (claims, the daily count, marking each message sent)."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def send(self, to: str, subject: str, body: str, *, from_name: str = "", reply_to: str | None = None,
             message_id: str = "", attachments: tuple[tuple[str, bytes, str], ...] = (),
             from_addr: str | None = None) -> None:
        with self.server.count.get_lock():
            self.server.count.value += 1

    def close(self) -> None:
        """Nothing was opened."""


def floor(store: SqlStore, server: Server, how: str) -> float:
    """Seconds for the same messages without the outbox: `SmtpSender.send` over one connection (building each
    message, then SMTP); `smtplib.sendmail` of messages built beforehand (SMTP and the server alone); or
    building them alone (`build`: the EmailMessage that SmtpSender.send makes, serialised as it sends it)."""
    with store.read():
        rows = store.outbox(None, 10**9)
        sender_name = store.settings().get("sender_name", "")
    server.reset()
    if how == "SmtpSender":
        sender = SmtpSender(server.url, "bench@firmly.test")
        started = time.perf_counter()
        for r in rows:
            sender.send(r.recipient, r.subject, r.body, from_name=sender_name, message_id=r.id)
        seconds = time.perf_counter() - started
        sender.close()
        assert server.accepted() == len(rows)
        return seconds
    if how == "build-compat32":  # the same message made with email.mime and the compat32 policy
        started = time.perf_counter()
        for r in rows:
            m = MIMEText(r.body, "plain", "utf-8")
            m["From"] = formataddr((Header(sender_name, "utf-8").encode(), "bench@firmly.test"))
            m["To"] = r.recipient
            m["Subject"] = Header(r.subject, "utf-8").encode()
            m["Message-ID"] = f"<{r.id}@firmly>"
            m.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))
        return time.perf_counter() - started
    built: list[tuple[str, bytes]] = []
    capture = SmtpSender(server.url, "bench@firmly.test")
    capture._conn = _Capture(built)  # type: ignore[assignment]  # builds exactly what send() would send
    started = time.perf_counter()
    for r in rows:
        capture.send(r.recipient, r.subject, r.body, from_name=sender_name, message_id=r.id)
    if how == "build":
        return time.perf_counter() - started
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", server.port) as conn:
        for to, data in built:
            conn.sendmail("bench@firmly.test", [to], data)
    seconds = time.perf_counter() - started
    assert server.accepted() == len(rows)
    return seconds


class _Capture:
    def __init__(self, into: list[tuple[str, bytes]]) -> None:
        self.into = into

    def send_message(self, msg: EmailMessage) -> None:
        self.into.append((str(msg["To"]), msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))))


def bench_emails(args: argparse.Namespace) -> dict[str, Any]:
    store = prepared(args)
    url = database(args)
    results: dict[str, Any] = {"benchmark": "emails", "messages": args.messages, "runs": args.runs,
                               "database": url.split(":")[0], "goal_per_s": GOAL_EMAILS_PER_S}
    with Server(pin(args)) as server:
        timings, inside = [], []
        for run in range(args.runs):
            if run:
                store = prepared(args)
            timed = Timed(SmtpSender(server.url, "bench@firmly.test"))
            seconds, _ = drain_once(store, url, server, mail=timed)
            timings.append(seconds)
            inside.append(timed.seconds)
            print(f"run {run + 1}: {args.messages} emails in {seconds:.2f}s = {args.messages / seconds:.0f}/s "
                  f"({timed.seconds / seconds:.0%} of it inside SmtpSender.send)")
        median = statistics.median(timings)
        results["drain"] = {"seconds": [round(t, 3) for t in timings], "median_s": round(median, 3),
                            "per_s": round(args.messages / median),
                            "inside_send_s": round(statistics.median(inside), 3)}
        for how in ("build", "build-compat32", "smtplib", "SmtpSender"):
            runs = [floor(store, server, how) for _ in range(args.runs)]
            results[f"floor_{how}"] = {"median_s": round(statistics.median(runs), 3),
                                       "per_s": round(args.messages / statistics.median(runs))}
        runs = []
        for _ in range(args.runs):
            store = prepared(args)
            runs.append(drain_once(store, url, server, mail=NoMail(server))[0])
        results["floor_outbox"] = {"median_s": round(statistics.median(runs), 3),
                                   "per_s": round(args.messages / statistics.median(runs))}
        if args.profile:
            store = prepared(args)
            profile = cProfile.Profile()
            wall, _ = drain_once(store, url, server, profile=profile)
            _, rows = summarise(profile, "drain", args.top, wall)
            results["profile"] = sorted(rows, key=lambda r: -r["tottime"])[: args.top]
    per_s = results["drain"]["per_s"]
    print(f"\ndrain: median {results['drain']['median_s']}s = {per_s} emails/s "
          f"({'meets' if per_s >= GOAL_EMAILS_PER_S else 'misses'} the goal of {GOAL_EMAILS_PER_S}/s); "
          f"of it inside SmtpSender.send {results['drain']['inside_send_s']}s; the same messages without the "
          f"outbox: SmtpSender {results['floor_SmtpSender']['per_s']}/s, prebuilt over smtplib "
          f"{results['floor_smtplib']['per_s']}/s, building alone {results['floor_build']['per_s']}/s (with "
          f"email.mime and compat32: {results['floor_build-compat32']['per_s']}/s); the drain "
          f"sending nothing: {results['floor_outbox']['per_s']}/s; "
          f"load average {os.getloadavg()[0]:.1f}")
    results["load_average"] = os.getloadavg()
    return results


def bench_memory(args: argparse.Namespace) -> dict[str, Any]:
    store = prepared(args)
    url = database(args)
    n = args.messages
    marks = {max(1, n // 100): "1%", n // 4: "25%", n // 2: "50%", 3 * n // 4: "75%"}
    with Server(pin(args)) as server:
        watched = Watched(SmtpSender(server.url, "bench@firmly.test"), marks)
        before = {"at": "start", "sent": 0, **rss()}
        seconds, done = drain_once(store, url, server, mail=watched)
        samples = [before, *watched.samples, {"at": "end", "sent": done.sent, **rss()}]
    for s in samples:
        print(f"{s['at']:>6}: {s['sent']:>7} sent, RSS {s['rss_mib']:7.1f} MiB, peak {s['peak_rss_mib']:7.1f} MiB")
    growth = samples[-1]["rss_mib"] - samples[1]["rss_mib"]
    print(f"{n} emails in {seconds:.1f}s = {n / seconds:.0f}/s; RSS from 1% to the end: {growth:+.1f} MiB")
    return {"benchmark": "memory", "messages": n, "database": url.split(":")[0], "seconds": round(seconds, 1),
            "per_s": round(n / seconds), "samples": samples, "rss_growth_after_1pct_mib": round(growth, 1)}


def bench_workers(args: argparse.Namespace) -> dict[str, Any]:
    """--workers `firmly worker` processes on the wall clock against a server taking --delay s a message."""
    store = prepared(args)
    url = database(args)
    worker.tick_all(lambda name: bootstrap.store(url, name or None), time.time_ns() // 1000)  # the clock, untimed
    with store.read():
        due = int(store.c.exec_driver_sql("SELECT count(*) FROM outbox WHERE status = 'pending'").scalar_one())
    with Server(delay=args.delay) as server:
        env = {**os.environ, "FIRMLY_DATABASE_URL": url, "FIRMLY_SMTP_URL": server.url,
               "FIRMLY_MAIL_FROM": "bench@firmly.test", "FIRMLY_SEND_TIMEOUT": str(args.send_timeout),
               "FIRMLY_WORKER_INTERVAL": "0.2", "FIRMLY_WORKER_MARK": args.mark}
        if args.src:  # the workers run that source tree's firmly (another commit's, for a before/after)
            env["PYTHONPATH"] = str(args.src)
        started, first = time.perf_counter(), 0.0
        procs = [subprocess.Popen([sys.executable, "-m", "firmly", "worker"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for _ in range(args.workers)]
        left = due
        while left and time.perf_counter() - started < args.limit:
            time.sleep(0.05)
            if not first and server.accepted():
                first = time.perf_counter()
            with store.read():
                left = int(store.c.exec_driver_sql(
                    "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')").scalar_one())
        seconds = time.perf_counter() - started
        sending = time.perf_counter() - (first or started)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)  # each ends its round (a late duplicate would still arrive), then exits
        reports = [proc.communicate(timeout=args.limit)[1] for proc in procs]
        accepted, repeats = server.accepted(), int(server.repeats.value)
    sent = [sum(int(n) for n in re.findall(r"sent (\d+)", r)) for r in reports]
    taken = [sum(int(n) for n in re.findall(r"(\d+) taken over", r)) for r in reports]
    ideal = due * args.delay / args.workers
    print(f"{due} messages, {args.workers} workers, {args.delay}s a message, FIRMLY_SEND_TIMEOUT={args.send_timeout}: "
          f"all sent in {seconds:.1f}s (ideal {ideal:.1f}s); the server accepted {accepted}, {repeats} of them a "
          f"Message-ID again; sent per worker {sent}, taken over per worker {taken}; from the first message "
          f"accepted to the last marked sent {sending:.2f}s = {due / sending:.0f} emails/s"
          + ("" if not left else f"; {left} still unsent after {args.limit}s"))
    return {"benchmark": "workers", "messages": due, "workers": args.workers, "delay_s": args.delay,
            "send_timeout_s": args.send_timeout, "seconds": round(seconds, 1), "ideal_s": round(ideal, 1),
            "mark": args.mark, "src": str(args.src or ""), "sending_s": round(sending, 2),
            "emails_per_s": round(due / sending),
            "accepted": accepted, "repeated_message_ids": repeats, "sent_per_worker": sent,
            "taken_over_per_worker": taken, "unsent": left, "load_average": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description="firmly outbox worker benchmarks")
    sub = parser.add_subparsers(dest="benchmark", required=True)
    for name, default, help_text in (("emails", 5_000, "emails/s through worker.drain to a local SMTP server"),
                                     ("memory", 100_000, "resident memory over one long drain"),
                                     ("workers", 150, "several `firmly worker` processes and a slow SMTP server: "
                                                      "each message once?")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--messages", type=int, default=default, help=f"due reminders (default {default:,})")
        p.add_argument("--db", help="a database URL (default: a SQLite file in --workdir)")
        p.add_argument("--workdir", type=Path, default=HERE / "data")
        p.add_argument("--rebuild", action="store_true", help="build the workspace again")
        p.add_argument("--json-out", type=Path, help="write the results as JSON here")
        p.add_argument("--pin", action="store_true", help="the worker on CPU 0, the SMTP server on CPU 1")
        if name == "workers":
            p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
            p.add_argument("--delay", type=float, default=1.0, help="seconds the server takes a message (default 1)")
            p.add_argument("--send-timeout", type=float, default=30.0, help="FIRMLY_SEND_TIMEOUT (default 30)")
            p.add_argument("--limit", type=float, default=600.0, help="give up after this many seconds")
            p.add_argument("--mark", choices=("batch", "each"), default="each",
                           help="FIRMLY_WORKER_MARK: each message as it leaves (the default), or a batch at once")
            p.add_argument("--src", type=Path, help="run the workers from this source tree (PYTHONPATH)")
        if name == "emails":
            p.add_argument("--runs", type=int, default=5, help="timed runs; the median is reported (default 5)")
            p.add_argument("--profile", action="store_true", help="print cProfile's top functions of one more run")
            p.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    if args.messages < 100:
        parser.error("--messages must be at least 100")
    run: Callable[[argparse.Namespace], dict[str, Any]] = {
        "emails": bench_emails, "memory": bench_memory, "workers": bench_workers}[args.benchmark]
    results = run(args)
    results["python"] = sys.version.split()[0]
    results["when"] = iso(time.time_ns() // 1000)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
