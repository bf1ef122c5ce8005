"""The worker's work: move every workspace's clock to now, then send what the outbox holds.

Messages are claimed a batch at a time (status `sending`, with a lease and a claim token of its own) in one
short transaction, sent over one connection, and the batch's results (sent, deferred, failed with their
reasons and next attempts) are marked together in one more transaction: two transactions per batch, not two
per message. A worker that dies mid-batch leaves its claims to run out, and the next worker sends them again
under the same Message-ID / webhook-id, so a receiver sees one message. Two workers never hold the same claim
(SQLite: one writer; PostgreSQL: FOR UPDATE SKIP LOCKED), and claims are fenced: a worker whose claim ran out
while it was busy (a slow server, a long batch) and was taken over by another neither sends the message nor
marks it, because both steps check the claim token, row by row (a row taken over is reported, never marked
twice).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from time import monotonic_ns
from typing import Protocol
from zoneinfo import ZoneInfo

from firmly import redact
from firmly.domain.clock import from_us, to_us
from firmly.domain.errors import FirmlyError, Undelivered
from firmly.domain.ports import OutboxRow, Store
from firmly.service import clock, invoices

SECOND = 1_000_000
BACKOFF = tuple(s * SECOND for s in (30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200))
GIVE_UP_US = 3 * 86_400 * SECOND  # retried for up to three days, then `failed` for a person to look at
LEASE_US = 60 * SECOND  # twice FIRMLY_SEND_TIMEOUT's default; `firmly worker` passes twice the one it has
FIRST_CLAIM = 20  # the size of a round's first claim, before it has seen how long a message takes to send


class Mail(Protocol):
    def send(self, to: str, subject: str, body: str, *, from_name: str = "", reply_to: str | None = None,
             message_id: str = "", attachments: tuple[tuple[str, bytes, str], ...] = (),
             from_addr: str | None = None) -> None: ...

    def close(self) -> None:
        """End the connection kept open between messages."""
        ...


class Hooks(Protocol):
    def send(self, url: str, secret: str, message_id: str, payload: str, now: datetime | None = None) -> None: ...


@dataclass(slots=True)
class Channels:
    mail: Mail | None
    hooks: Hooks | None
    invoice_pdf: Callable[[Store, str, str], bytes] | None = None  # (store, counterparty, decision) -> PDF

    def close(self) -> None:
        """After a round: the mail connection is not kept idle until the next one (servers drop it anyway)."""
        if self.mail is not None:
            self.mail.close()


@dataclass(slots=True)
class Round:
    woken: int = 0
    sent: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    taken: int = 0  # claimed here, but the lease ran out first and another worker took them over
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Workspace:
    tz: ZoneInfo
    quiet: tuple[time, time] | None
    daily_limit: int
    settings: dict[str, str]


def tick_all(store_for: Callable[[str], Store], now: int) -> int:
    """Let every workspace's clock reach `now` (reminders, deadlines, the end of restrictions)."""
    any_store = store_for("")
    with any_store.read():
        names = any_store.all_workspaces()
    woken = 0
    for name in names:
        woken += clock.tick(store_for(name), now, now=now).woken
    return woken


def drain(store_for: Callable[[str], Store], now: int, channels: Channels, batch: int = 500,
          lease: int = LEASE_US, clock: Callable[[], int] | None = None,
          stopping: Callable[[], bool] = lambda: False, mark_each: bool = False) -> Round:
    """Send the messages due at `now`, a claim at a time, until none is due.

    A message leaves only while it is surely still under this worker's claim: claimed a moment ago, or its
    lease renewed right before the send by a conditional update that also checks the claim token. It is
    marked only if it still is. `lease` must outlast one send (FIRMLY_SEND_TIMEOUT, enforced by the senders)
    with room to mark it. Each claim takes what this worker can send in a quarter of the lease, measured as
    the round goes, so other workers are not kept waiting for messages held in a long batch. `clock` gives
    the time of the leases (by default `now` moved on by the time the round has taken). Once `stopping()`
    says so, the round ends after the message in hand and gives its other claims back, due at once.
    """
    try:
        return _drain(store_for, now, channels, batch, lease, clock, stopping, mark_each)
    finally:
        channels.close()


def _drain(store_for: Callable[[str], Store], now: int, channels: Channels, batch: int, lease: int,
           clock: Callable[[], int] | None, stopping: Callable[[], bool], mark_each: bool) -> Round:
    report = Round()
    places: dict[str, _Workspace] = {}
    started = monotonic_ns()
    fence = _Fence(lease, clock or (lambda: now + (monotonic_ns() - started) // 1000))
    size = min(batch, FIRST_CLAIM)
    while True:
        claimer = store_for("")
        with claimer.write():
            claimed = claimer.claim_outbox(now, size, fence.clock() + lease, secrets.token_hex(16))
        if not claimed:
            return report
        began = monotonic_ns()
        results = _Results(claimer, report, mark_each)
        try:
            sent_today = _sent_today(store_for, places, claimed, now)
            for n, row in enumerate(claimed):
                if stopping():
                    _release(claimed[n:], now, results)
                    return report
                if results.rows and results.held_until - fence.clock() < fence.lease * 3 // 4:
                    results.mark()  # a slow batch: what it did is marked while it is surely still under its claims
                held = row.next_at  # its claim's lease (a renewal before the send only moves it later)
                store = store_for(row.workspace)
                _deliver(store, places[row.workspace], row, now, channels, results, fence, sent_today)
                results.held_until = min(results.held_until, held)
        finally:
            results.mark()  # one transaction for the whole batch, whatever happened in it
        if len(claimed) < size:
            return report
        each = (monotonic_ns() - began) // 1000 // len(claimed)  # µs per message of this claim
        size = max(1, min(batch, lease // 4 // max(each, 1)))


def _release(rows: list[OutboxRow], now: int, results: _Results) -> None:
    """Give claims back unsent (the worker is stopping): due again at once for another worker, not after the
    lease. One that was taken over meanwhile is left to its new holder."""
    for row in rows:
        row.status, row.next_at = "pending", now
        results.add(row, "released")


@dataclass(slots=True)
class _Results:
    """A claimed batch's outcomes, kept until the batch ends and then marked in one transaction, each only
    where the message is still under this worker's claim. A batch sent within a quarter of its lease (as claims
    are sized) is marked once; one that takes longer is marked before each further send, while its claims
    surely still hold, so a message sent in time is never left for another worker to send again."""
    store: Store
    report: Round
    each: bool = False  # marked as each message is done instead (a worker killed mid-batch resends at most one)
    rows: list[OutboxRow] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # sent | deferred | retried | failed | released
    held_until: int = 2**62  # the earliest lease of the claims of `rows`

    def add(self, row: OutboxRow, kind: str) -> None:
        self.rows.append(row)
        self.kinds.append(kind)
        if self.each:
            self.mark()

    def mark(self) -> None:
        if not self.rows:
            return
        with self.store.write():
            marked = self.store.finish_outbox_batch(self.rows)
        report = self.report
        for row, kind, done in zip(self.rows, self.kinds, marked, strict=True):
            if kind == "released":
                continue
            if not done:
                report.taken += 1
                if kind == "sent":  # sent after the lease ran out: the claim's new holder may send it again
                    report.errors.append(
                        f"{row.id}: sent, but its claim had run out and another worker took it over; "
                        "it may arrive twice (raise FIRMLY_SEND_TIMEOUT if sending takes this long)")
                continue
            if kind == "sent":
                report.sent += 1
            elif kind == "deferred":
                report.deferred += 1
            else:
                if kind == "failed":
                    report.failed += 1
                else:
                    report.retried += 1
                report.errors.append(f"{row.id}: {row.error}")
        self.rows, self.kinds, self.held_until = [], [], 2**62


@dataclass(frozen=True, slots=True)
class _Fence:
    lease: int
    clock: Callable[[], int]

    def holds(self, store: Store, row: OutboxRow) -> bool:
        """Whether `row` may be sent now: still under its claim, with a lease that outlasts the send."""
        if row.next_at - self.clock() >= self.lease * 3 // 4:
            return True  # claimed a moment ago: no one else can have it, and the send ends well within the lease
        with store.write():
            until = self.clock() + self.lease  # from when the write began: waiting for it does not eat the lease
            if not store.renew_outbox(row, until):
                return False
        row.next_at = until
        return True


def _place(store: Store) -> _Workspace:
    with store.read():
        ws = store.workspace_info()
        settings = store.settings()
    tz = ZoneInfo(ws.timezone if ws else "UTC")
    quiet_text = settings.get("quiet_hours", "21:00-09:00")
    quiet = None
    if quiet_text.lower() not in ("off", "none", ""):
        start, _, end = quiet_text.partition("-")
        quiet = (time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
    return _Workspace(tz, quiet, int(settings.get("daily_limit", "3")), settings)


def _not_quiet(place: _Workspace, now: int) -> int | None:
    """None if `now` is outside quiet hours, else when they end."""
    if place.quiet is None:
        return None
    local = from_us(now).astimezone(place.tz)
    start, end = place.quiet
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return to_us(datetime.combine(day, end, tzinfo=place.tz))


def _next_day(place: _Workspace, now: int) -> int:
    local = from_us(now).astimezone(place.tz)
    start = place.quiet[1] if place.quiet else time(0)
    return to_us(datetime.combine(local.date() + timedelta(days=1), start, tzinfo=place.tz))


def _sent_today(store_for: Callable[[str], Store], places: dict[str, _Workspace], claimed: list[OutboxRow],
                now: int) -> dict[tuple[str, str], int]:
    """The emails each counterparty of a batch was sent today (the daily limit), read once per batch: one query
    per workspace, then kept up to date in memory as the batch sends."""
    wanted: dict[str, set[str]] = {}
    for row in claimed:
        if row.workspace not in places:
            places[row.workspace] = _place(store_for(row.workspace))
        if row.channel == "email" and _not_quiet(places[row.workspace], now) is None:
            wanted.setdefault(row.workspace, set()).add(row.counterparty)
    counts: dict[tuple[str, str], int] = {}
    for name, counterparties in wanted.items():
        place, store = places[name], store_for(name)
        local = from_us(now).astimezone(place.tz)
        midnight = to_us(datetime.combine(local.date(), time(0), tzinfo=place.tz))
        with store.read():
            found = store.sent_counts(sorted(counterparties), midnight, "email")
        counts.update(((name, cp), n) for cp, n in found.items())
    return counts


def _deliver(store: Store, place: _Workspace, row: OutboxRow, now: int, channels: Channels, results: _Results,
             fence: _Fence, sent_today: dict[tuple[str, str], int]) -> None:
    later = _not_quiet(place, now) if row.channel == "email" else None
    key = (row.workspace, row.counterparty)
    if later is None and row.channel == "email" and sent_today.get(key, 0) >= place.daily_limit:
        later = _next_day(place, now)  # enough for today: the rest waits for tomorrow
    if later is not None:
        row.status, row.next_at = "pending", later
        results.add(row, "deferred")
        return
    row.attempts += 1
    try:
        send = _sender(store, place, row, channels)  # an invoice's PDF is made before the claim is checked
        if not fence.holds(store, row):
            results.report.taken += 1  # another worker has it now: it is sent there, not here
            return
        send()
    except Exception as exc:  # any channel's failure is recorded on the message, never lost
        permanent = isinstance(exc, Undelivered) and exc.permanent
        row.error = redact.text(f"{type(exc).__name__}: {exc}")[:2000]  # stored and shown: no secret in it
        if permanent or now - row.created_at >= GIVE_UP_US:
            row.status = "failed"
        else:
            row.status = "pending"
            row.next_at = now + BACKOFF[min(row.attempts - 1, len(BACKOFF) - 1)]
    else:
        row.status, row.sent_at, row.error = "sent", now, None
        if row.channel == "email":
            sent_today[key] = sent_today.get(key, 0) + 1
    results.add(row, row.status if row.status != "pending" else "retried")


def _sender(store: Store, place: _Workspace, row: OutboxRow, channels: Channels) -> Callable[[], None]:
    """The send of one message, everything it needs made ready; the call is the message leaving."""
    settings = place.settings
    if row.channel == "email":
        mail = channels.mail
        if mail is None:
            raise FirmlyError("no SMTP server is configured (FIRMLY_SMTP_URL)")
        attachments: tuple[tuple[str, bytes, str], ...] = ()
        if row.attachment == "invoice" and channels.invoice_pdf is not None:
            number = invoices.invoice(store, row.counterparty, row.decision).number
            attachments = ((f"invoice-{number}.pdf", channels.invoice_pdf(store, row.counterparty, row.decision),
                            "application/pdf"),)
        if row.sender:  # one of the workspace's senders wrote it: it is from them, and replies go to them
            return lambda: mail.send(row.recipient, row.subject, row.body, from_name=row.sender_name or "",
                                     reply_to=row.sender, message_id=row.id, attachments=attachments,
                                     from_addr=row.sender)
        return lambda: mail.send(row.recipient, row.subject, row.body, from_name=settings.get("sender_name", ""),
                                 reply_to=settings.get("reply_to"), message_id=row.id, attachments=attachments)
    if row.channel == "webhook":
        hooks, secret = channels.hooks, settings.get("webhook_secret")
        if hooks is None or not secret:
            raise FirmlyError("no webhook secret is set: firmly webhook secret", )
        return lambda: hooks.send(row.recipient, secret, row.id, row.body)  # signed at the moment it leaves
    raise FirmlyError(f"unknown channel {row.channel!r}")


def retry(store: Store, message: str | None, now: int) -> int:
    """Send failed messages again (one, or all of the workspace's)."""
    with store.write():
        rows = [r for r in store.outbox("failed", 100_000) if message is None or r.id == message]
        for r in rows:
            r.status, r.next_at, r.error = "pending", now, None
            store.finish_outbox(r)
    return len(rows)
