"""The worker's work: move every workspace's clock to now, then send what the outbox holds.

A message is claimed (status `sending`, with a lease) in one short transaction, sent, and marked in
another; a worker that dies mid-send leaves its claims to run out, and the next worker sends them again
under the same Message-ID / webhook-id, so a receiver sees one message. Two workers never hold the same
claim (SQLite: one writer; PostgreSQL: FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from firmly import redact
from firmly.domain.clock import from_us, to_us
from firmly.domain.errors import FirmlyError
from firmly.domain.ports import OutboxRow, Store
from firmly.service import clock, invoices

SECOND = 1_000_000
BACKOFF = tuple(s * SECOND for s in (30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200))
GIVE_UP_US = 3 * 86_400 * SECOND  # retried for up to three days, then `failed` for a person to look at
LEASE_US = 120 * SECOND


class Mail(Protocol):
    def send(self, to: str, subject: str, body: str, *, from_name: str = "", reply_to: str | None = None,
             message_id: str = "", attachments: tuple[tuple[str, bytes, str], ...] = ()) -> None: ...


class Hooks(Protocol):
    def send(self, url: str, secret: str, message_id: str, payload: str, now: datetime | None = None) -> None: ...


@dataclass(slots=True)
class Channels:
    mail: Mail | None
    hooks: Hooks | None
    invoice_pdf: Callable[[Store, str, str], bytes] | None = None  # (store, counterparty, decision) -> PDF


@dataclass(slots=True)
class Round:
    woken: int = 0
    sent: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
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
        woken += clock.tick(store_for(name), now).woken
    return woken


def drain(store_for: Callable[[str], Store], now: int, channels: Channels, batch: int = 500) -> Round:
    """Send the messages due at `now`, a batch at a time, until none is due."""
    report = Round()
    places: dict[str, _Workspace] = {}
    while True:
        claimer = store_for("")
        with claimer.write():
            claimed = claimer.claim_outbox(now, batch, now + LEASE_US)
        if not claimed:
            return report
        for row in claimed:
            store = store_for(row.workspace)
            place = places.get(row.workspace) or _place(store)
            places[row.workspace] = place
            _deliver(store, place, row, now, channels, report)
        if len(claimed) < batch:
            return report


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


def _deliver(store: Store, place: _Workspace, row: OutboxRow, now: int, channels: Channels, report: Round) -> None:
    later = _not_quiet(place, now) if row.channel == "email" else None
    if later is None and row.channel == "email":
        local = from_us(now).astimezone(place.tz)
        midnight = to_us(datetime.combine(local.date(), time(0), tzinfo=place.tz))
        with store.read():
            if store.sent_since(row.counterparty, midnight, "email") >= place.daily_limit:
                later = _next_day(place, now)  # enough for today: the rest waits for tomorrow
    if later is not None:
        row.status, row.next_at = "pending", later
        report.deferred += 1
        _finish(store, row)
        return
    row.attempts += 1
    try:
        _send(store, place, row, now, channels)
    except Exception as exc:  # any channel's failure is recorded on the message, never lost
        permanent = bool(getattr(exc, "permanent", False))
        row.error = redact.text(f"{type(exc).__name__}: {exc}")[:2000]  # stored and shown: no secret in it
        if permanent or now - row.created_at >= GIVE_UP_US:
            row.status = "failed"
            report.failed += 1
        else:
            row.status = "pending"
            row.next_at = now + BACKOFF[min(row.attempts - 1, len(BACKOFF) - 1)]
            report.retried += 1
        report.errors.append(f"{row.id}: {row.error}")
    else:
        row.status, row.sent_at, row.error = "sent", now, None
        report.sent += 1
    _finish(store, row)


def _send(store: Store, place: _Workspace, row: OutboxRow, now: int, channels: Channels) -> None:
    settings = place.settings
    if row.channel == "email":
        if channels.mail is None:
            raise FirmlyError("no SMTP server is configured (FIRMLY_SMTP_URL)")
        attachments: tuple[tuple[str, bytes, str], ...] = ()
        if row.attachment == "invoice" and channels.invoice_pdf is not None:
            number = invoices.invoice(store, row.counterparty, row.decision).number
            attachments = ((f"invoice-{number}.pdf", channels.invoice_pdf(store, row.counterparty, row.decision),
                            "application/pdf"),)
        channels.mail.send(row.recipient, row.subject, row.body, from_name=settings.get("sender_name", ""),
                           reply_to=settings.get("reply_to"), message_id=row.id, attachments=attachments)
    elif row.channel == "webhook":
        secret = settings.get("webhook_secret")
        if channels.hooks is None or not secret:
            raise FirmlyError("no webhook secret is set: firmly webhook secret", )
        channels.hooks.send(row.recipient, secret, row.id, row.body)  # signed at the moment it leaves
    else:
        raise FirmlyError(f"unknown channel {row.channel!r}")


def _finish(store: Store, row: OutboxRow) -> None:
    with store.write():
        store.finish_outbox(row)


def retry(store: Store, message: str | None, now: int) -> int:
    """Send failed messages again (one, or all of the workspace's)."""
    with store.write():
        rows = [r for r in store.outbox("failed", 100_000) if message is None or r.id == message]
        for r in rows:
            r.status, r.next_at, r.error = "pending", now, None
            store.finish_outbox(r)
    return len(rows)
