"""Messages that go out, through real parts: an aiosmtpd server and an HTTP receiver that verifies every
webhook with the `standardwebhooks` package, `firmly worker` as a process (killed with SIGKILL, two at
once), on SQLite and PostgreSQL where the database matters (claims, leases, the daily count).

Times are a fake clock (`--as-of`, or `worker.drain(now=…)`), except where a webhook must pass the
receiver's five-minute timestamp check: there the worker runs on the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pypdf
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import create_engine, text
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from typer.testing import CliRunner

from firmly import bootstrap
from firmly.adapters.sql.store import SqlStore
from firmly.domain.clock import iso, parse_instant, to_us
from firmly.domain.events import validate
from firmly.domain.ports import OutboxRow
from firmly.doors.cli import app as firmly_cli
from firmly.service import demo, ingest, outbox, review, rulebooks, worker, workspace

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "src" / "firmly" / "examples"
CLINIC, STUDIO, AGENCY = EXAMPLES / "clinic-en", EXAMPLES / "studio-en", EXAMPLES / "agency-ru"
HOUR = 3_600_000_000
MAIL_FROM = "noreply@firmly.test"


# -- the real parts ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Mail:
    message_id: str
    to: list[str]
    msg: EmailMessage

    @property
    def body(self) -> str:
        part = self.msg.get_body(preferencelist=("plain",))
        assert part is not None
        content: str = part.get_content()
        return content


class SmtpSink:
    """An SMTP server (aiosmtpd) on a free loopback port keeping every message it accepted, in order.

    `rcpt` and `data` may answer with a refusal ("451 …") instead of accepting; `delay` slows each DATA."""

    def __init__(self, delay: float = 0.0, **server: Any) -> None:
        self.delay = delay
        self.mails: list[Mail] = []
        self.attempts: Counter[str] = Counter()  # Message-ID -> DATA commands seen (accepted or not)
        self.rcpt: Callable[[str], str | None] = lambda _address: None
        self.data: Callable[[EmailMessage], str | None] = lambda _msg: None
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **server)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        refusal = self.rcpt(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        content = envelope.original_content or b""
        msg = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        mid = str(msg["Message-ID"])
        with self.lock:
            self.attempts[mid] += 1
        refusal = self.data(msg)
        if refusal:
            return refusal
        with self.lock:
            self.mails.append(Mail(mid, list(envelope.rcpt_tos), msg))
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.mails)

    def by_id(self) -> dict[str, Mail]:
        with self.lock:
            return {m.message_id: m for m in self.mails}


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.controller.start()
    try:
        yield sink
    finally:
        sink.controller.stop()


@dataclass
class Hook:
    webhook_id: str
    timestamp: str
    payload: Any
    raw: bytes


@dataclass
class HookSink:
    """An HTTP receiver that verifies each request with standardwebhooks.Webhook(secret).verify: 204 and
    kept when it verifies, 400 and kept in `rejected` when not; `refuse` answers 503 to chosen webhook-ids."""

    secret: str = ""
    hooks: list[Hook] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    refuse: Callable[[str], bool] = lambda _webhook_id: False
    delay: float = 0.0  # seconds each request takes before its answer (a slow receiver)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self) -> ThreadingHTTPServer:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                webhook_id = headers.get("webhook-id", "")
                if sink.delay:
                    time.sleep(sink.delay)
                with sink.lock:
                    if sink.refuse(webhook_id):
                        sink.refused.append(webhook_id)
                        code = 503
                    else:
                        try:
                            payload = Webhook(sink.secret).verify(raw, headers)
                        except (WebhookVerificationError, ValueError) as exc:  # a bad signature, or not JSON
                            sink.rejected.append(f"{webhook_id}: {exc}")
                            code = 400
                        else:
                            sink.hooks.append(Hook(webhook_id, headers["webhook-timestamp"], payload, raw))
                            code = 204
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def hooks() -> Iterator[tuple[HookSink, str]]:
    sink = HookSink()
    server = sink.serve()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink, f"http://127.0.0.1:{server.server_address[1]}/firmly"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def own_database(database_url: str) -> Iterator[str]:
    """The database of one test. The worker claims due messages across every workspace of a database, so
    on PostgreSQL (where the session shares one database) each test gets a database of its own."""
    if not database_url.startswith("postgresql"):
        yield database_url
        return
    base = database_url.rsplit("/", 1)[0]
    name = f"firmly_outbox_{uuid.uuid4().hex[:10]}"
    admin = create_engine("postgresql+psycopg://" + database_url.split("://", 1)[1], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{base}/{name}"
    try:
        yield url
    finally:
        bootstrap.engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                         {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[str]:
    """SQLite and PostgreSQL: for what the database decides (claims, leases, counts of what was sent)."""
    with own_database(database_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """SQLite alone: for what does not depend on the database (what a message says, how a failure is handled)."""
    return f"sqlite:///{tmp_path / 'firmly.db'}"


# -- helpers --------------------------------------------------------------------------------------
def at(value: str) -> int:
    return parse_instant(value)


def make_workspace(db: str, name: str, rulebook: Path | None, timezone: str, **settings: str) -> SqlStore:
    store = bootstrap.store(db, name)
    workspace.init(store, None, timezone, 0)
    if rulebook is not None:
        rulebooks.load(store, rulebooks.read(rulebook), 0)
    for key, value in settings.items():
        outbox.set_setting(store, key, value)
    return store


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ingest_live(store: SqlStore, events: list[dict[str, Any]]) -> None:
    """One event at a time in the order they happened, as a live system sends them: each as it happens."""
    for raw in sorted(events, key=lambda e: parse_instant(e["occurred_at"])):
        report = ingest.ingest(store, [("live", 0, validate(raw))], now=parse_instant(raw["occurred_at"]))
        assert not report.rejected, report.rejected


def channels(monkeypatch: pytest.MonkeyPatch, sink: SmtpSink) -> worker.Channels:
    """What `firmly worker` wires: the real SmtpSender, WebhookSender and invoice PDF."""
    monkeypatch.setenv("FIRMLY_SMTP_URL", sink.url)
    monkeypatch.setenv("FIRMLY_MAIL_FROM", MAIL_FROM)
    return bootstrap.channels()


def store_for(db: str) -> Callable[[str], SqlStore]:
    return lambda name: bootstrap.store(db, name or None)


def put_due(store: SqlStore, n: int, due: int, *, counterparties: int = 1, channel: str = "email",
            recipient: str | None = None, prefix: str = "x", tag: str = "") -> list[OutboxRow]:
    """`n` messages due at `due`, written as `outbox.letters` writes them (for tests of the sending alone)."""
    rows = []
    for i in range(n):
        key = f"{prefix}{i % counterparties}"
        to = recipient or f"{key}@example.org"
        decision = f"d-{prefix}{tag}{i:06d}"
        body = f"Body {i}\n" if channel == "email" else json.dumps({"type": "decision.fee", "data": {"id": decision}})
        rows.append(OutboxRow(outbox.message_id(decision, channel, to), decision, key, channel, to,
                              f"Subject {i}", body, None, "pending", 0, due, due))
    with store.write():
        assert store.put_outbox(rows) == n
    return rows


def rows_of(store: SqlStore, status: str | None = None) -> dict[str, OutboxRow]:
    with store.read():
        return {r.id: r for r in store.outbox(status, 1_000_000)}


def cli(db: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "FIRMLY_DATABASE_URL": db, "FIRMLY_MAIL_FROM": MAIL_FROM, "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "firmly", *args], env=full, capture_output=True, text=True,
                          timeout=timeout, check=False)


def start_worker(db: str, smtp_url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "FIRMLY_DATABASE_URL": db, "FIRMLY_SMTP_URL": smtp_url, "FIRMLY_MAIL_FROM": MAIL_FROM,
           **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "firmly", "worker", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 90) -> str:
    """Wait for a worker; its stderr (the round's report), after checking it exited 0."""
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return err


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def mid(message_id: str) -> str:
    return f"<{message_id}@firmly>"


# -- what an email says ---------------------------------------------------------------------------------
def requests_by_phone(key: str, name: str, address: str, locale: str | None) -> list[dict[str, Any]]:
    """A client who phones a manager three times though the rulebook allows only the shared order inbox."""
    data: dict[str, Any] = {"kind": "client", "name": name, "email": address}
    if locale:
        data["locale"] = locale
    events = [{"id": f"{key}-cp", "type": "counterparty.upserted", "counterparty": key,
               "occurred_at": "2026-04-01T09:00:00+03:00", "data": data}]
    for n, day in enumerate((6, 8, 10)):
        events.append({"id": f"{key}-call-{n}", "type": "request.received", "counterparty": key,
                       "occurred_at": f"2026-04-{day:02d}T11:00:00+03:00",
                       "data": {"request": f"{key}-q{n}", "channel": "phone:personal", "topic": "question",
                                "effort_minutes": 15}})
    return events


def test_email_content_language_amount_why_sender_and_message_id(
        sqlite_url: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    signature = "Типография «Оттиск»\n+7 495 000-00-00"
    store = make_workspace(sqlite_url, "print", AGENCY / "rulebook.yaml", "Europe/Moscow", quiet_hours="off",
                           sender_name="Типография «Оттиск»", signature=signature, reply_to="orders@ottisk.example")
    rule = yaml.safe_load((AGENCY / "rulebook.yaml").read_text(encoding="utf-8"))["rules"]["single_channel"]
    ingest_live(store, requests_by_phone("petrov", "Иван Петров", "petrov@example.ru", None)
                + requests_by_phone("smith", "John Smith", "john@example.com", "en"))
    done = worker.drain(store_for(sqlite_url), at("2026-04-10T12:00:00+03:00"), channels(monkeypatch, smtp))
    assert (done.sent, done.retried, done.failed, done.errors) == (6, 0, 0, [])
    mails = smtp.by_id()
    assert len(smtp.mails) == len(mails) == 6

    with store.read():
        decisions = {(d["counterparty"], d["action"]): d for d in store.decisions(rule="single_channel")}
    assert {a for (_, a) in decisions} == {"feedback", "warning", "fee"}

    def mail(key: str, address: str, action: str) -> Mail:
        found = mails[mid(outbox.message_id(decisions[key, action]["id"], "email", address))]  # a stable id
        assert found.to == [address]
        assert found.msg["To"] == address
        assert found.msg["From"].addresses[0].display_name == "Типография «Оттиск»"
        assert found.msg["From"].addresses[0].addr_spec == MAIL_FROM
        assert found.msg["Reply-To"] == "orders@ottisk.example"
        assert found.msg.get_content_type() == "text/plain"
        return found

    fee = mail("petrov", "petrov@example.ru", "fee")
    assert fee.msg["Subject"] == f"Штраф по правилу «{rule['title']}»"
    assert fee.body.startswith("Здравствуйте, Иван Петров!\n")
    assert "Сумма 3\xa0000,00\xa0₽ списывается с вашего счёта" in fee.body
    assert f"Почему это важно: {rule['why']}" in fee.body
    # the letter, signed; then the link to the client's own page, alone on the last line
    signed, link = fee.body.rsplit("\n\n", 1)
    assert signed.endswith(f"С уважением,\n{signature}")
    assert link.startswith("Ваша страница: ") and re.fullmatch(r"http://\S+/my/print/[\w.-]+",
                                                                 link.splitlines()[-1])
    feedback = mail("petrov", "petrov@example.ru", "feedback")
    assert "Если правило будет нарушено снова, следующий шаг — предупреждение." in feedback.body

    en_fee = mail("smith", "john@example.com", "fee")
    assert en_fee.msg["Subject"] == f"A fee under the rule: {rule['title']}"
    assert en_fee.body.startswith("Dear John Smith,\n")
    assert "The amount of RUB3,000.00 is taken from your account" in en_fee.body
    assert f"Why it matters: {rule['why']}" in en_fee.body
    signed, link = en_fee.body.rsplit("\n\n", 1)
    assert signed.endswith(f"Kind regards,\n{signature}")
    assert link.startswith("Your own page: ") and "/my/print/" in link.splitlines()[-1]
    en_feedback = mail("smith", "john@example.com", "feedback")
    assert "If the rule is broken again, the next step is a warning." in en_feedback.body

    # nothing goes twice: another round, and the same events again, send nothing
    again = worker.drain(store_for(sqlite_url), at("2026-04-11T12:00:00+03:00"), channels(monkeypatch, smtp))
    ingest_live(store, requests_by_phone("petrov", "Иван Петров", "petrov@example.ru", None))
    again2 = worker.drain(store_for(sqlite_url), at("2026-04-12T12:00:00+03:00"), channels(monkeypatch, smtp))
    assert again.sent == again2.sent == 0
    assert smtp.count() == 6


def test_top_up_invoice_email_carries_the_pdf(sqlite_url: str, smtp: SmtpSink) -> None:
    store = make_workspace(sqlite_url, "studio", STUDIO / "rulebook.yaml", "Europe/Berlin", quiet_hours="off",
                           daily_limit="10")
    ingest_live(store, read_events(STUDIO / "events.jsonl"))
    with store.read():
        invoice = store.decisions(counterparty="acme", action="top_up_invoice")
    assert [d["amount"] for d in invoice] == ["3000.00"]
    message = mid(outbox.message_id(invoice[0]["id"], "email", "projects@acme.example"))
    # without the business's details the invoice is not drawn, so the letter waits with the reason on it
    proc = cli(sqlite_url, "worker", "--once", "--as-of", "2026-04-01T12:00:00+02:00",
               env={"FIRMLY_SMTP_URL": smtp.url})
    assert proc.returncode == 0, proc.stderr
    assert message not in smtp.by_id()
    waiting = [m for m in outbox.listed(store, None) if m.counterparty == "acme" and m.error]
    assert waiting and "seller_name" in (waiting[0].error or "")
    for name, value in demo.SELLER["en"].items():
        outbox.set_setting(store, name, value)
    assert cli(sqlite_url, "outbox", "retry", "-w", "studio").returncode == 0  # due again from now
    proc = cli(sqlite_url, "worker", "--once", env={"FIRMLY_SMTP_URL": smtp.url})
    assert proc.returncode == 0, proc.stderr
    found = smtp.by_id()[message]
    assert found.msg["Subject"] == "Top-up invoice for €3,000.00"
    assert "The invoice is attached." in found.body
    attachments = list(found.msg.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_content_type() == "application/pdf"
    assert re.fullmatch(r"invoice-[\w-]+\.pdf", attachments[0].get_filename() or "")
    pdf = pypdf.PdfReader(io.BytesIO(attachments[0].get_content()))
    words = " ".join(page.extract_text() for page in pdf.pages)
    assert "3000.00" in words or "3,000.00" in words, words
    assert "Acme GmbH" in words and "Demo Services Ltd" in words and "GB82WEST12345698765432" in words


# -- webhooks --------------------------------------------------------------------------------------
def test_webhooks_every_decision_verified_payload_and_stable_id(
        sqlite_url: str, smtp: SmtpSink, hooks: tuple[HookSink, str]) -> None:
    sink, url = hooks
    store = make_workspace(sqlite_url, "clinic", CLINIC / "rulebook.yaml", "Europe/London", quiet_hours="off",
                           daily_limit="100", webhook_url=url)
    made = cli(sqlite_url, "webhook", "secret", "-w", "clinic")
    assert made.returncode == 0, made.stderr
    sink.secret = made.stdout.strip()
    assert sink.secret.startswith("whsec_")
    assert "whsec_…" in cli(sqlite_url, "workspace", "show", "--json", "-w", "clinic").stdout  # never shown again
    ingest_live(store, read_events(CLINIC / "events.jsonl"))
    with store.read():  # a person approves the proposed suspension: that decision goes out too
        proposed = store.decisions(status="proposed", action="suspend")
    assert len(proposed) == 1
    approve = cli(sqlite_url, "review", "approve", proposed[0]["id"], "--reason", "five late changes", "-w", "clinic")
    assert approve.returncode == 0, approve.stderr
    env = {"FIRMLY_SMTP_URL": smtp.url}
    for _ in range(2):  # the second round finds nothing more to send
        proc = cli(sqlite_url, "worker", "--once", env=env)  # the wall clock: the receiver checks the signature's time
        assert proc.returncode == 0, proc.stderr

    assert sink.rejected == []
    ids = Counter(h.webhook_id for h in sink.hooks)
    assert all(n == 1 for n in ids.values()), ids  # at most once each
    decisions = json.loads(cli(sqlite_url, "decisions", "--json", "-w", "clinic").stdout)
    happened = {d["id"]: d for d in decisions if d["status"] in outbox.SENT_STATES}
    posted = {h.payload["data"]["id"]: h for h in sink.hooks}
    assert set(posted) == set(happened)  # every decision that happened, and only those
    assert "approved" in {d["status"] for d in happened.values()}
    for decision_id, hook in posted.items():
        assert hook.webhook_id == outbox.message_id(decision_id, "webhook", url)
        payload = hook.payload
        assert payload["type"] == f"decision.{happened[decision_id]['action']}"
        data = dict(payload["data"])
        assert data.pop("counterparty_name")
        assert "/my/clinic/" in data.pop("page_url")  # the signed link to the client's own page
        assert data == happened[decision_id]  # the payload is the decision's JSON
        assert json.loads(hook.raw) == payload
    with store.read():
        assert {r.status for r in store.outbox() if r.channel == "webhook"} == {"sent"}


def test_a_refused_webhook_is_retried_under_the_same_webhook_id(
        sqlite_url: str, hooks: tuple[HookSink, str], monkeypatch: pytest.MonkeyPatch, smtp: SmtpSink) -> None:
    sink, url = hooks
    sink.secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    store = make_workspace(sqlite_url, "w", None, "UTC", webhook_url=url, webhook_secret=sink.secret)
    now = time.time_ns() // 1000  # the receiver checks the signature's time against its own clock
    rows = put_due(store, 3, now, channel="webhook", recipient=url)
    down = {rows[0].id, rows[1].id}

    def once(webhook_id: str) -> bool:  # the receiver is down for the first request of two messages
        if webhook_id in down:
            down.remove(webhook_id)
            return True
        return False

    sink.refuse = once
    wire, stores = channels(monkeypatch, smtp), store_for(sqlite_url)
    done = worker.drain(stores, now, wire)
    assert (done.sent, done.retried, done.failed) == (1, 2, 0)
    assert [r.next_at for r in rows_of(store, "pending").values()] == [now + worker.BACKOFF[0]] * 2
    done = worker.drain(stores, now + worker.BACKOFF[0], wire)
    assert (done.sent, done.retried, done.failed) == (2, 0, 0)
    assert sorted(sink.refused) == sorted(r.id for r in rows[:2])
    assert sorted(h.webhook_id for h in sink.hooks) == sorted(r.id for r in rows)  # the same ids, once each
    assert [h.payload for h in sorted(sink.hooks, key=lambda h: h.webhook_id)] == [
        json.loads(r.body) for r in sorted(rows, key=lambda r: r.id)]


def test_webhooks_of_a_catch_up_run_are_signed_with_the_sending_time(
        sqlite_url: str, hooks: tuple[HookSink, str]) -> None:
    """`firmly worker --once --as-of T` (a test or a catch-up) signs with T as webhook-timestamp; a receiver
    checks that timestamp against its own clock (five minutes), so it must be the time of sending."""
    sink, url = hooks
    sink.secret = worker_secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    store = make_workspace(sqlite_url, "clinic", CLINIC / "rulebook.yaml", "Europe/London", webhook_url=url,
                           webhook_secret=worker_secret)
    ingest_live(store, read_events(CLINIC / "events.jsonl")[:9])  # up to tom's booking: one reminder is due
    proc = cli(sqlite_url, "worker", "--once", "--as-of", "2026-05-06T12:00:00+01:00")
    assert proc.returncode == 0, proc.stderr
    assert sink.rejected == []
    assert len(sink.hooks) == 1
    assert abs(int(sink.hooks[0].timestamp) - time.time()) < 300


def test_a_proposal_approved_a_week_later_is_still_told(sqlite_url: str) -> None:
    """A suspension proposed on 4 June and approved on 12 June happens on 12 June: the patient is told, and
    the webhook goes out (the outbox skips decisions older than a week only to leave imported history alone)."""
    store = make_workspace(sqlite_url, "clinic", CLINIC / "rulebook.yaml", "Europe/London",
                           webhook_url="http://127.0.0.1:9/hook")
    ingest_live(store, read_events(CLINIC / "events.jsonl"))
    worker.tick_all(store_for(sqlite_url), at("2026-06-12T10:00:00+01:00"))  # the worker keeps the clock going
    with store.read():
        (proposed,) = store.decisions(status="proposed", action="suspend")
    review.act(store, proposed["id"], "approve", "five late changes", "test")
    told = {(r.channel, r.recipient) for r in rows_of(store).values() if r.decision == proposed["id"]}
    assert told == {("email", "tom@example.org"), ("webhook", "http://127.0.0.1:9/hook")}


# -- the clinic, live ------------------------------------------------------------------------------
def clinic_with_emails() -> list[dict[str, Any]]:
    """The clinic's events with an email address for every patient (three have none in the example, and
    max is never upserted), so every reminder can be seen arriving."""
    events = read_events(CLINIC / "events.jsonl")
    for e in events:
        if e["type"] == "counterparty.upserted":
            e["data"].setdefault("email", f"{e['counterparty']}@example.org")
    events.insert(0, {"id": "cp-max", "type": "counterparty.upserted", "counterparty": "max",
                      "occurred_at": "2026-05-01T07:00:00+01:00",
                      "data": {"kind": "client", "name": "Max Moor", "email": "max@example.org", "locale": "en"}})
    return events


def expected_reminders(events: list[dict[str, Any]], offsets: list[int]) -> dict[tuple[str, int], int]:
    """(visit, offset) -> when the reminder is due: for the visit's time in force at that moment, after it
    was booked and before it was cancelled or moved."""
    plans: dict[str, list[tuple[int, int]]] = {}  # visit -> [(from, starts_at)]
    ends: dict[str, int] = {}
    for e in sorted(events, key=lambda e: parse_instant(e["occurred_at"])):
        when, visit = parse_instant(e["occurred_at"]), e["data"].get("appointment")
        if e["type"] in ("appointment.booked", "appointment.rescheduled"):
            plans.setdefault(visit, []).append((when, parse_instant(e["data"]["starts_at"])))
        elif e["type"] == "appointment.cancelled":
            ends[visit] = when
    wanted = {}
    for visit, plan in plans.items():
        for i, (since, starts) in enumerate(plan):
            until = plan[i + 1][0] if i + 1 < len(plan) else ends.get(visit, 2**62)
            for offset in offsets:
                if since <= starts - offset < until:
                    wanted[visit, offset] = starts - offset
    return wanted


def hours(spec: str) -> int:
    assert spec.endswith("h")
    return int(spec[:-1]) * HOUR


@pytest.mark.parametrize(("backend", "remind_at"), [("sqlite", "as shipped"), ("sqlite", "48h, 3h"),
                                                   ("postgres", "48h, 3h")])
def test_clinic_live_reminders_before_kept_visits_none_after_cancelling(
        request: pytest.FixtureRequest, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        backend: str, remind_at: str) -> None:
    """The clinic's events arrive at their own times; the worker wakes every hour of a fake clock from
    1 May to 6 June. Quiet hours 22:00-07:00 (London), so a 3h reminder of a 9:00 visit waits until 7:00.
    "as shipped" is the example's rulebook (24h and 2h); "48h, 3h" the same with the issue's offsets."""
    url = f"sqlite:///{tmp_path / 'clinic.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    with own_database(url) as db:
        clinic_live(db, smtp, monkeypatch, tmp_path, remind_at)


def clinic_live(db: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, remind_at: str) -> None:
    book = yaml.safe_load((CLINIC / "rulebook.yaml").read_text(encoding="utf-8"))
    if remind_at != "as shipped":
        book["rules"]["late_change"]["remind"]["at"] = [s.strip() for s in remind_at.split(",")]
    offsets = [hours(s) for s in book["rules"]["late_change"]["remind"]["at"]]
    (tmp_path / "rulebook.yaml").write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")
    store = make_workspace(db, "clinic", tmp_path / "rulebook.yaml", "Europe/London", quiet_hours="22:00-07:00")
    london = ZoneInfo("Europe/London")
    events = clinic_with_emails()
    pending = sorted(events, key=lambda e: parse_instant(e["occurred_at"]))
    wire, stores = channels(monkeypatch, smtp), store_for(db)
    arrived: dict[str, int] = {}  # Message-ID -> the fake hour it arrived in
    now = at("2026-05-01T00:00:00+01:00")
    while now <= at("2026-06-06T00:00:00+01:00"):
        arriving = [e for e in pending if parse_instant(e["occurred_at"]) <= now]
        if arriving:
            ingest_live(store, arriving)
            pending = pending[len(arriving):]
        worker.tick_all(stores, now)
        done = worker.drain(stores, now, wire)
        assert done.errors == []
        for m in smtp.mails[len(arrived):]:
            arrived[m.message_id] = now
        now += HOUR
    assert not pending
    # an earlier no-show that arrives late refolds max's history: what was sent is not sent again
    ingest_live(store, read_events(CLINIC / "late.jsonl"))
    worker.tick_all(stores, now)
    assert worker.drain(stores, now, wire).errors == []
    for m in smtp.mails[len(arrived):]:
        arrived[m.message_id] = now
    assert smtp.count() == len(arrived) == len(smtp.by_id())  # no raw duplicates at all

    mails = smtp.by_id()
    sent = {r.id: r for r in rows_of(store).values()}
    with store.read():
        decisions = {d["id"]: d for d in store.decisions()}
    reminders: dict[tuple[str, int], int] = {}
    for message_id, hour in arrived.items():
        row = sent[message_id.strip("<>").removesuffix("@firmly")]
        d = decisions[row.decision]
        if d["action"] == "reminder":
            key = (d["params"]["ref"], d["params"]["offset"])
            assert key not in reminders
            reminders[key] = hour
            assert mails[message_id].msg["Subject"].endswith("Cancel at least 12 hours before your visit")
    wanted = expected_reminders(events, offsets)
    assert set(reminders) == set(wanted), (sorted(reminders), sorted(wanted))
    for key, due in wanted.items():
        local = datetime.fromtimestamp(due / 1e6, london)
        send_from = due
        if local.hour >= 22 or local.hour < 7:  # quiet: at 7:00 London
            day = local.date() + timedelta(days=1) if local.hour >= 22 else local.date()
            send_from = to_us(datetime(day.year, day.month, day.day, 7, tzinfo=london))
        assert reminders[key] == -(-send_from // HOUR) * HOUR, (key, iso(reminders[key]), iso(send_from))
    kept = {"l1", "m1", "m2"}  # never cancelled (lucy came; max did not): every reminder
    assert {(v, o) for v in kept for o in offsets} <= set(reminders)
    assert {v for v, o in reminders if o == min(offsets)} == kept  # the last one only for kept visits
    if remind_at == "as shipped":  # ann cancels 30 hours ahead: nothing at all
        assert not [v for v, _ in reminders if v.startswith("a")]


# -- crashes and concurrency ------------------------------------------------------------------------------
@pytest.mark.parametrize("mark", ["batch", "each"])
def test_killed_worker_restarted_delivers_every_message_once(db: str, mark: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """FIRMLY_WORKER_MARK=each marks every message as it leaves: a worker killed mid-batch sends at most the
    message in flight again. `batch` (the default) marks a claimed batch's results at once: what the dead
    worker sent of its last claim is sent again, never more than that claim, under the same Message-ID."""
    sink = SmtpSink(delay=0.001)
    mode = {"FIRMLY_WORKER_MARK": mark}
    sink.controller.start()
    try:
        store = make_workspace(db, "bulk", None, "UTC", quiet_hours="off", daily_limit="1000")
        t = at("2026-05-04T12:00:00+00:00")
        rows = put_due(store, 2000, t - HOUR, counterparties=200)
        first = start_worker(db, sink.url, "--once", "--as-of", iso(t), env=mode)
        try:
            wait_for(lambda: sink.count() >= 700 or first.poll() is not None, 60, "700 messages")
            first.kill()  # SIGKILL, mid-batch
        finally:
            _, err = first.communicate(timeout=10)
        assert first.returncode == -9, err
        before = sink.count()
        assert 700 <= before < 2000
        claimed = rows_of(store, "sending")
        assert claimed  # the dead worker's claims wait for their lease to run out
        # at the same moment, a new worker sends the rest but leaves the dead worker's claims alone
        again = start_worker(db, sink.url, "--once", "--as-of", iso(t), env=mode)
        finish(again)
        assert set(rows_of(store, "sending")) == set(claimed)
        # after the lease (it runs from the claim, a few seconds into the round), they are sent again under the
        # same Message-ID
        after = start_worker(db, sink.url, "--once", "--as-of", iso(t + 2 * worker.LEASE_US), env=mode)
        finish(after)
        raw = Counter(m.message_id for m in sink.mails)
        assert set(raw) == {mid(r.id) for r in rows}  # every message arrived
        duplicates = sum(n - 1 for n in raw.values())
        with capsys.disabled():
            print(f"\n[{db.split(':', 1)[0]}, {mark}] kill -9 after {before} messages, {len(claimed)} claims leased; "
                  f"raw duplicates at the receiver: {duplicates}")
        if mark == "each":
            assert duplicates <= 1  # at most the one in flight when the worker died
        else:  # at most what it had claimed and not marked
            assert duplicates <= len(claimed)
        assert set(rows_of(store, "sent")) == {r.id for r in rows}
    finally:
        sink.controller.stop()


def test_two_workers_at_once_never_send_a_message_twice(db: str) -> None:
    sink = SmtpSink(delay=0.001)
    sink.controller.start()
    try:
        store = make_workspace(db, "bulk", None, "UTC", quiet_hours="off", daily_limit="1000")
        t = at("2026-05-04T12:00:00+00:00")
        rows = put_due(store, 2000, t, counterparties=100)
        workers = [start_worker(db, sink.url, "--once", "--as-of", iso(t)) for _ in range(2)]
        reports = [finish(w) for w in workers]
        sent = [int(re.search(r"sent (\d+)", err).group(1)) for err in reports]  # type: ignore[union-attr]
        assert sum(sent) == 2000 and min(sent) > 0, sent  # both worked, side by side
        raw = Counter(m.message_id for m in sink.mails)
        assert len(sink.mails) == 2000 and set(raw) == {mid(r.id) for r in rows}  # raw: not one twice
    finally:
        sink.controller.stop()


@pytest.mark.parametrize("channel", ["email", "webhook"])
def test_slow_receivers_and_claims_outliving_their_lease_still_deliver_each_message_once(
        db: str, channel: str, hooks: tuple[HookSink, str]) -> None:
    """`firmly worker` processes on the wall clock (three for email, two for webhooks), a receiver taking 0.3 s
    a message and a lease of 2 s (FIRMLY_SEND_TIMEOUT=1): a claimed batch takes longer to send than its lease,
    so other workers take over the messages still waiting in it. Every message still arrives exactly once,
    counted at the receiver by Message-ID or webhook-id."""
    smtp = SmtpSink(delay=0.3 if channel == "email" else 0.0)
    receiver, url = hooks
    receiver.secret, receiver.delay = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 0.3
    smtp.controller.start()
    workers: list[subprocess.Popen[str]] = []
    try:
        store = make_workspace(db, "slow", None, "UTC", quiet_hours="off", daily_limit="1000",
                               webhook_secret=receiver.secret)
        rows = put_due(store, 16, time.time_ns() // 1000 - HOUR, counterparties=16, channel=channel,
                       recipient=url if channel == "webhook" else None)
        env = {"FIRMLY_SEND_TIMEOUT": "1", "FIRMLY_WORKER_INTERVAL": "0.1"}
        workers = [start_worker(db, smtp.url, env=env) for _ in range(3 if channel == "email" else 2)]
        wait_for(lambda: len(rows_of(store, "sent")) == len(rows), 60, "every message marked sent")
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)  # each ends its round (a late duplicate would arrive now), then exits
        reports = [finish(w, timeout=30) for w in workers]
        smtp.controller.stop()
    arrived = Counter(m.message_id for m in smtp.mails) + Counter(mid(h.webhook_id) for h in receiver.hooks)
    assert set(arrived) == {mid(r.id) for r in rows} and not receiver.rejected  # every message arrived
    assert {m: n for m, n in arrived.items() if n > 1} == {}, reports  # and none twice
    taken = sum(int(found.group(1)) for err in reports for found in re.finditer(r"(\d+) taken over", err))
    assert taken > 0, reports  # the lease did run out under a worker: the fence, not luck, kept them single


def test_a_stopped_worker_gives_its_claims_back_at_once(db: str) -> None:
    """SIGTERM ends a round after the message in hand: the rest of its claim is due again at once (not after
    the lease, a minute by default), and the next worker sends it, each message once."""
    sink = SmtpSink(delay=0.3)
    sink.controller.start()
    try:
        store = make_workspace(db, "stop", None, "UTC", quiet_hours="off", daily_limit="1000")
        rows = put_due(store, 10, time.time_ns() // 1000 - HOUR, counterparties=10)
        first = start_worker(db, sink.url)
        wait_for(lambda: sink.count() >= 1, 60, "the first message")
        first.send_signal(signal.SIGTERM)
        finish(first)
        states = Counter(r.status for r in rows_of(store).values())
        assert states["sending"] == 0 and 1 <= states["sent"] < 10 and states["pending"] == 10 - states["sent"]
        again = start_worker(db, sink.url, "--once")  # on the wall clock, right away
        finish(again)
        assert Counter(r.status for r in rows_of(store).values()) == {"sent": 10}
        raw = Counter(m.message_id for m in sink.mails)
        assert set(raw) == {mid(r.id) for r in rows} and max(raw.values()) == 1
    finally:
        sink.controller.stop()


# -- retries and failures ----------------------------------------------------------------------------------
def test_refused_then_accepted_backs_off_as_backoff_says(
        sqlite_url: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_workspace(sqlite_url, "w", None, "UTC", quiet_hours="off")
    t0 = at("2026-05-04T12:00:00+00:00")
    (row,) = put_due(store, 1, t0)
    smtp.data = lambda msg: "451 4.3.0 Try again later" if smtp.attempts[mid(row.id)] <= 2 else None
    wire, stores = channels(monkeypatch, smtp), store_for(sqlite_url)
    now = t0
    for attempt in (1, 2):
        done = worker.drain(stores, now, wire)
        assert (done.sent, done.retried) == (0, 1)
        r = rows_of(store)[row.id]
        assert (r.status, r.attempts, r.next_at) == ("pending", attempt, now + worker.BACKOFF[attempt - 1])
        assert r.error is not None and "451" in r.error
        assert worker.drain(stores, r.next_at - 1, wire).sent == 0  # not before its time
        now = r.next_at
    assert worker.drain(stores, now, wire).sent == 1
    r = rows_of(store)[row.id]
    assert (r.status, r.attempts, r.sent_at, r.error) == ("sent", 3, now, None)
    assert [m.message_id for m in smtp.mails] == [mid(row.id)]  # the same Message-ID on every attempt


def test_greylisting_at_rcpt_is_retried_not_failed(sqlite_url: str, smtp: SmtpSink,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4xx answer to RCPT TO (greylisting) is temporary: the message waits and goes again."""
    store = make_workspace(sqlite_url, "w", None, "UTC", quiet_hours="off")
    t0 = at("2026-05-04T12:00:00+00:00")
    (row,) = put_due(store, 1, t0)
    tries: list[str] = []

    def greylist(address: str) -> str | None:
        tries.append(address)
        return "451 4.7.1 Greylisted, please try again later" if len(tries) == 1 else None

    smtp.rcpt = greylist
    wire, stores = channels(monkeypatch, smtp), store_for(sqlite_url)
    worker.drain(stores, t0, wire)
    r = rows_of(store)[row.id]
    assert (r.status, r.attempts, r.next_at) == ("pending", 1, t0 + worker.BACKOFF[0]), r
    assert worker.drain(stores, r.next_at, wire).sent == 1


def test_a_permanent_refusal_fails_is_listed_and_retried_from_the_cli(sqlite_url: str, smtp: SmtpSink,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_workspace(sqlite_url, "w", None, "UTC", quiet_hours="off")
    t0 = at("2026-05-04T12:00:00+00:00")
    good, bad = put_due(store, 2, t0, counterparties=2)
    refusing = [True]
    smtp.rcpt = lambda a: "550 5.1.1 No such user" if refusing[0] and a == bad.recipient else None
    done = worker.drain(store_for(sqlite_url), t0, channels(monkeypatch, smtp))
    assert (done.sent, done.failed, done.retried) == (1, 1, 0)
    listed = cli(sqlite_url, "outbox", "list", "--status", "failed", "--json", "-w", "w")
    assert listed.returncode == 0, listed.stderr
    (failed,) = json.loads(listed.stdout)
    assert (failed["id"], failed["status"], failed["attempts"], failed["recipient"]) == (bad.id, "failed", 1,
                                                                                        bad.recipient)
    assert "550" in failed["error"] and "No such user" in failed["error"]
    table = cli(sqlite_url, "outbox", "list", "-w", "w", "--lang", "en")
    assert "failed" in table.stdout and "No such user" in table.stdout, table.stdout
    assert "не ушло" in cli(sqlite_url, "outbox", "list", "-w", "w", "--lang", "ru").stdout
    assert cli(sqlite_url, "outbox", "retry", "m-nosuch", "-w", "w").returncode == 1
    refusing[0] = False  # the mailbox exists now
    retried = cli(sqlite_url, "outbox", "retry", bad.id, "-w", "w")
    assert retried.returncode == 0 and "отправлено снова: 1" in retried.stdout, retried.stderr
    proc = cli(sqlite_url, "worker", "--once", env={"FIRMLY_SMTP_URL": smtp.url})  # the retry is due now (wall clock)
    assert proc.returncode == 0, proc.stderr
    assert [m.message_id for m in smtp.mails] == [mid(good.id), mid(bad.id)]
    assert json.loads(cli(sqlite_url, "outbox", "list", "--status", "failed", "--json", "-w", "w").stdout) == []


def test_a_permanent_refusal_of_the_content_fails_at_once(sqlite_url: str, smtp: SmtpSink,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """554 after DATA (the content refused, e.g. as spam): retrying for three days cannot help."""
    store = make_workspace(sqlite_url, "w", None, "UTC", quiet_hours="off")
    t0 = at("2026-05-04T12:00:00+00:00")
    (row,) = put_due(store, 1, t0)
    smtp.data = lambda msg: "554 5.7.1 Message rejected as spam"
    done = worker.drain(store_for(sqlite_url), t0, channels(monkeypatch, smtp))
    assert (done.failed, done.retried) == (1, 0), rows_of(store)[row.id]


def test_transient_failures_give_up_after_three_days(sqlite_url: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
                                                     ) -> None:
    store = make_workspace(sqlite_url, "w", None, "UTC", quiet_hours="off")
    t0 = at("2026-05-04T12:00:00+00:00")
    (row,) = put_due(store, 1, t0)
    smtp.data = lambda msg: "421 4.3.2 Service not available"
    wire, stores = channels(monkeypatch, smtp), store_for(sqlite_url)
    now, waits = t0, []
    while True:
        done = worker.drain(stores, now, wire)
        r = rows_of(store)[row.id]
        if r.status == "failed":
            assert done.failed == 1
            break
        waits.append(r.next_at - now)
        now = r.next_at
    assert now - t0 >= worker.GIVE_UP_US > now - t0 - waits[-1]  # the first try at or after three days
    assert waits == [worker.BACKOFF[min(i, len(worker.BACKOFF) - 1)] for i in range(len(waits))]
    assert r.attempts == len(waits) + 1 and r.error is not None and "421" in r.error
    assert smtp.mails == []


def test_a_worker_reconnects_after_the_server_dropped_an_idle_connection(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    """`firmly worker` keeps one SMTP connection across rounds; servers close idle ones (here after 1 s)."""
    sink = SmtpSink(timeout=1)
    sink.controller.start()
    try:
        db = f"sqlite:///{tmp_path / 'idle.db'}"
        store = make_workspace(db, "w", None, "UTC", quiet_hours="off")
        wire, stores = channels(monkeypatch, sink), store_for(db)
        t0 = at("2026-05-04T12:00:00+00:00")
        put_due(store, 1, t0, prefix="a")
        assert worker.drain(stores, t0, wire).sent == 1
        time.sleep(2.0)
        put_due(store, 1, t0 + HOUR, prefix="b")
        done = worker.drain(stores, t0 + HOUR, wire)
        assert (done.sent, done.retried, done.errors) == (1, 0, [])
    finally:
        sink.controller.stop()


def test_a_send_whose_steps_each_fit_the_timeout_but_not_together_is_given_up_and_retried(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """FIRMLY_SEND_TIMEOUT bounds a whole message, not each SMTP step, so the worker's claim (twice as long)
    outlasts every send: here RCPT and DATA take 0.4 s each, 0.8 s together, against a timeout of 0.6 s."""
    sink = SmtpSink(delay=0.4)
    sink.rcpt = lambda _address: time.sleep(0.4)  # slow, then accepted (None)
    sink.controller.start()
    try:
        monkeypatch.setenv("FIRMLY_SEND_TIMEOUT", "0.6")
        store = make_workspace(sqlite_url, "w", None, "UTC", quiet_hours="off")
        wire, stores = channels(monkeypatch, sink), store_for(sqlite_url)
        t0 = at("2026-05-04T12:00:00+00:00")
        [row] = put_due(store, 1, t0)
        done = worker.drain(stores, t0, wire)
        assert (done.sent, done.retried) == (0, 1)
        assert "FIRMLY_SEND_TIMEOUT" in done.errors[0], done.errors
        r = rows_of(store)[row.id]
        assert (r.status, r.attempts, r.next_at, r.claim) == ("pending", 1, t0 + worker.BACKOFF[0], None)
        sink.delay, sink.rcpt = 0.0, lambda _address: None  # the server is quick again
        done = worker.drain(stores, r.next_at, wire)
        assert (done.sent, done.errors) == (1, [])  # over a new connection: the timed-out one was closed
        assert rows_of(store)[row.id].status == "sent"
    finally:
        sink.controller.stop()


@pytest.mark.parametrize("value", ["soon", "0", "-5", "86400"])
def test_an_unusable_send_timeout_is_named_not_a_traceback(sqlite_url: str, smtp: SmtpSink, value: str) -> None:
    proc = cli(sqlite_url, "worker", "--once", env={"FIRMLY_SMTP_URL": smtp.url, "FIRMLY_SEND_TIMEOUT": value})
    assert proc.returncode != 0
    assert "FIRMLY_SEND_TIMEOUT must be a number of seconds" in proc.stderr and repr(value) in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


# -- quiet hours and the daily limit ---------------------------------------------------------------------
def test_quiet_hours_in_the_workspace_time_zone(sqlite_url: str, smtp: SmtpSink,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokyo (UTC+9): 03:00 there is 18:00 UTC, when a UTC clock would send."""
    store = make_workspace(sqlite_url, "tokyo", None, "Asia/Tokyo", quiet_hours="21:00-09:00")
    (row,) = put_due(store, 1, at("2026-07-01T02:00:00+09:00"))
    wire, stores = channels(monkeypatch, smtp), store_for(sqlite_url)
    done = worker.drain(stores, at("2026-07-01T03:00:00+09:00"), wire)
    assert (done.sent, done.deferred) == (0, 1)
    r = rows_of(store)[row.id]
    assert (r.status, r.attempts, r.next_at) == ("pending", 0, at("2026-07-01T09:00:00+09:00"))
    assert worker.drain(stores, at("2026-07-01T08:59:00+09:00"), wire).sent == 0
    assert worker.drain(stores, at("2026-07-01T09:00:00+09:00"), wire).sent == 1
    assert [m.message_id for m in smtp.mails] == [mid(row.id)]
    # and across midnight: 23:30 is quiet too, the message waits for 09:00 the next morning
    (late,) = put_due(store, 1, at("2026-07-01T23:30:00+09:00"), prefix="late")
    assert worker.drain(stores, at("2026-07-01T23:30:00+09:00"), wire).deferred == 1
    assert rows_of(store)[late.id].next_at == at("2026-07-02T09:00:00+09:00")


def test_daily_limit_per_counterparty_in_local_days(db: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    store = make_workspace(db, "tokyo", None, "Asia/Tokyo", quiet_hours="off", daily_limit="3")
    rows = put_due(store, 5, at("2026-07-01T09:30:00+09:00"), prefix="kim")  # all to one counterparty
    other = put_due(store, 1, at("2026-07-01T09:30:00+09:00"), prefix="lee")
    wire, stores = channels(monkeypatch, smtp), store_for(db)
    done = worker.drain(stores, at("2026-07-01T10:00:00+09:00"), wire)
    assert (done.sent, done.deferred) == (4, 2)  # three to kim, one to lee; the 4th and 5th wait
    waiting = [r for r in rows_of(store).values() if r.status == "pending"]
    assert len(waiting) == 2 and {r.counterparty for r in waiting} == {"kim0"}
    assert {r.next_at for r in waiting} == {at("2026-07-02T00:00:00+09:00")}  # quiet hours off: local midnight
    assert worker.drain(stores, at("2026-07-01T23:59:00+09:00"), wire).sent == 0
    assert worker.drain(stores, at("2026-07-02T00:00:00+09:00"), wire).sent == 2
    assert {m.message_id for m in smtp.mails} == {mid(r.id) for r in rows + other}


def test_daily_limit_day_is_the_workspace_local_day(db: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    """23:30 and 00:30 in Tokyo are two days there, one day in UTC (14:30 and 15:30)."""
    store = make_workspace(db, "tokyo", None, "Asia/Tokyo", quiet_hours="off", daily_limit="1")
    wire, stores = channels(monkeypatch, smtp), store_for(db)
    put_due(store, 1, at("2026-07-01T23:30:00+09:00"), prefix="a")
    assert worker.drain(stores, at("2026-07-01T23:30:00+09:00"), wire).sent == 1
    put_due(store, 1, at("2026-07-02T00:30:00+09:00"), prefix="a", tag="next")  # to the same counterparty
    assert worker.drain(stores, at("2026-07-02T00:30:00+09:00"), wire).sent == 1
    assert smtp.count() == 2


def test_daily_limit_counts_the_emails_a_counterparty_gets_not_webhooks(
        db: str, smtp: SmtpSink, hooks: tuple[HookSink, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`daily_limit`: at most this many messages a day to one counterparty. Webhooks go to the workspace's
    own systems, not to the counterparty."""
    sink, url = hooks
    sink.secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    store = make_workspace(db, "w", None, "UTC", quiet_hours="off", daily_limit="3", webhook_url=url,
                           webhook_secret=sink.secret)
    now = time.time_ns() // 1000  # the receiver checks the signature's time
    emails = []
    for n in range(3):  # three decisions about kim this morning: each an email to kim and a webhook
        emails += put_due(store, 1, now - (3 - n) * 600_000_000, prefix="kim", tag=str(n))
        put_due(store, 1, now - (3 - n) * 600_000_000, prefix="kim", tag=str(n), channel="webhook", recipient=url)
    done = worker.drain(store_for(db), now, channels(monkeypatch, smtp))
    assert len(sink.hooks) == 3
    assert {m.message_id for m in smtp.mails} == {mid(r.id) for r in emails}, done


# -- settings --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "value", "says"), [
    ("quiet_hours", "25:00-09:00", "quiet_hours must look like 21:00-09:00"),
    ("quiet_hours", "21:00", "quiet_hours must look like 21:00-09:00"),
    ("quiet_hours", "evenings", "quiet_hours must look like 21:00-09:00"),
    ("webhook_secret", "hunter2", "webhook_secret must be a whsec_"),
    ("webhook_secret", "whsec_not-base64!", "webhook_secret"),  # the worker could not sign with it
    ("webhook_secret", "whsec_", "webhook_secret"),
    ("daily_limit", "0", "daily_limit must be a whole number above 0"),
    ("webhook_url", "ftp://example.org/hook", "webhook_url must be an http(s) URL"),
    ("messages", "fee: [", "messages:1: yaml: is not valid YAML"),
    ("messages", "fee:\n  en: {body: \"{0}\"}", "messages:2: fee.en.body: uses the field {0}"),
    ("colour", "blue", "no setting 'colour'"),
])
def test_workspace_set_refuses_bad_values_with_a_message(tmp_path: Path, name: str, value: str, says: str) -> None:
    db = f"sqlite:///{tmp_path / 'set.db'}"
    workspace.init(bootstrap.store(db, "w"), None, None, 0)
    runner = CliRunner()
    done = runner.invoke(firmly_cli, ["workspace", "set", name, value, "--db", db, "-w", "w"])
    assert (done.exit_code, done.stdout) == (1, ""), (done.stdout, done.stderr, done.exception)
    assert isinstance(done.exception, SystemExit)  # the command's own exit, not an escaped error
    assert says in done.stderr, done.stderr
    assert outbox.settings(bootstrap.store(db, "w")) == {}


def test_workspace_set_error_is_a_message_without_traceback(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'set.db'}"
    assert cli(db, "init", "-w", "w").returncode == 0
    for name, value in (("quiet_hours", "9pm-9am"), ("webhook_secret", "hunter2")):
        proc = cli(db, "workspace", "set", name, value, "-w", "w")
        assert (proc.returncode, proc.stdout) == (1, ""), proc
        assert proc.stderr.startswith(f"error: {name} must") and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.splitlines()) == 1


def test_workspace_set_and_show(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'set.db'}"
    workspace.init(bootstrap.store(db, "w"), None, None, 0)
    runner = CliRunner()
    for name, value in (("quiet_hours", "22:00-07:00"), ("daily_limit", "5"), ("sender_name", "Bright Smile"),
                        ("webhook_secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")):
        done = runner.invoke(firmly_cli, ["workspace", "set", name, value, "--db", db, "-w", "w"])
        assert done.exit_code == 0 and f"{name}: задано" in done.stdout, done.stderr
    shown = runner.invoke(firmly_cli, ["workspace", "show", "--json", "--db", db, "-w", "w"])
    assert json.loads(shown.stdout) == {"quiet_hours": "22:00-07:00", "daily_limit": "5",
                                        "sender_name": "Bright Smile", "webhook_secret": "whsec_…"}
    assert runner.invoke(firmly_cli, ["workspace", "set", "daily_limit", "--db", db, "-w", "w"]).exit_code == 0
    assert "daily_limit" not in outbox.settings(bootstrap.store(db, "w"))  # no value: removed
