"""The one place where settings become adapters."""

from __future__ import annotations

import atexit
import contextlib
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from firmly import config
from firmly.adapters.clock import FixedClock, SystemClock
from firmly.adapters.sql.store import SqlStore, make_engine
from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.durations import DurationError, parse_duration, to_us
from firmly.domain.errors import FirmlyError, StorageError
from firmly.domain.ports import Clock, Documents, Store
from firmly.domain.tone import analyse
from firmly.doors import catalogues  # the .po files beside the doors that show them
from firmly.service import bulk, settle, tone, wallclock, wording

if TYPE_CHECKING:
    from firmly.service import worker


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    engine = make_engine(url)
    # Connections closed at exit: SQLite copies its write-ahead log into the database when the last one closes,
    # so a command leaves no log behind for the next process to read through
    atexit.register(engine.dispose)
    return engine


def engine(database_url: str | None = None) -> Engine:
    """One SQLAlchemy engine (and connection pool) per database, shared by every store."""
    return _engine(config.DATABASE_URL.value(database_url))


def store(database_url: str | None = None, workspace: str | None = None, settled: bool = True) -> SqlStore:
    """A workspace's store: how every door reaches one. `settled`: the events the workspace acknowledged
    before deciding them (`Prefer: respond-async`) are decided first, so that whatever the door reads shows
    them; a database or workspace not there yet is left to the command to report."""
    url = config.DATABASE_URL.value(database_url)
    found = SqlStore(_engine(url), config.WORKSPACE.value(workspace))
    if settled:
        with contextlib.suppress(StorageError):
            settle.settled(found)
    return found


def backlog() -> int:
    """FIRMLY_ASYNC_BACKLOG: how many acknowledged events may wait to be decided in a workspace."""
    text = config.ASYNC_BACKLOG.value()
    if not text.isdigit() or int(text) < 1:
        raise FirmlyError(f"{config.ASYNC_BACKLOG.env} must be a whole number of events above 0, got {text!r}")
    return int(text)


def serve_decides() -> bool:
    """FIRMLY_SERVE_DECIDES: whether a server decides in the background what it acknowledged (else deciders do)."""
    text = config.SERVE_DECIDES.value().strip().lower()
    if text not in ("0", "1", "on", "off", "true", "false", "yes", "no"):
        raise FirmlyError(f"{config.SERVE_DECIDES.env} must be 1 or 0, got {text!r}")
    return text in ("1", "on", "true", "yes")


def _analyser() -> tone.Analyse:
    from firmly.adapters.lexicons import load_lexicon  # noqa: PLC0415 - pymorphy3 loads only when a text comes

    extra = [Path(p) for p in config.LEXICONS.value().split(os.pathsep) if p]
    lexicon = load_lexicon(extra)
    bulk.keep_loaded()  # 70,000 objects that live as long as the process
    return lambda text, language=None: analyse(text, lexicon, language)


def clock() -> Clock:
    """FIRMLY_NOW fixes the wall clock; unset, it is the system's."""
    fixed = config.NOW.value()
    if not fixed:
        return SystemClock()
    try:
        return FixedClock(parse_instant(fixed))
    except TimeError as exc:
        raise FirmlyError(f"{config.NOW.env} {exc}") from None


def future_horizon() -> int:
    """FIRMLY_FUTURE_HORIZON in microseconds."""
    try:
        return to_us(parse_duration(config.FUTURE_HORIZON.value()))
    except DurationError as exc:
        raise FirmlyError(f"{config.FUTURE_HORIZON.env} {exc}") from None


def documents() -> Documents:
    """The PDF and HTML documents (WeasyPrint takes ~0.7 s to import: loaded by the first command that draws one)."""
    from firmly.adapters import documents as drawn  # noqa: PLC0415

    return drawn


def send_timeout() -> float:
    """FIRMLY_SEND_TIMEOUT in seconds: how long one message may take to leave."""
    text = config.SEND_TIMEOUT.value()
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise FirmlyError(f"{config.SEND_TIMEOUT.env} must be a number of seconds above 0 and at most 3600, "
                          f"got {text!r}")
    return seconds


def mark_each() -> bool:
    """FIRMLY_WORKER_MARK: True to mark each message as it leaves, False (`batch`) to mark a claim's at once."""
    text = config.WORKER_MARK.value().strip().lower()
    if text not in ("batch", "each"):
        raise FirmlyError(f"{config.WORKER_MARK.env} must be batch or each, got {text!r}")
    return text == "each"


def channels() -> worker.Channels:
    """What the outbox sends through: SMTP (if FIRMLY_SMTP_URL is set), webhooks, and invoices as PDF."""
    from firmly.adapters.mail import SmtpSender  # noqa: PLC0415 - the senders load only for the worker
    from firmly.adapters.webhook import WebhookSender  # noqa: PLC0415
    from firmly.service import invoices, worker  # noqa: PLC0415

    smtp = config.SMTP_URL.value()
    timeout = send_timeout()
    mail = SmtpSender(smtp, config.MAIL_FROM.value(), timeout) if smtp else None

    def pdf(store: Store, key: str, decision: str) -> bytes:
        return documents().invoice_pdf(invoices.invoice(store, key, decision))

    return worker.Channels(mail, WebhookSender(timeout), pdf)


def webhook_secret() -> str:
    """A new signing secret for the workspace's webhooks (Standard Webhooks' form)."""
    from firmly.adapters.webhook import new_secret  # noqa: PLC0415

    return new_secret()


def read_calendar(raw: bytes, where: str, zone: str) -> dict[str, Any]:
    """An .ics export or iTIP message as the `ical` connector's payload."""
    from firmly.adapters import ical  # noqa: PLC0415 - icalendar loads only for a calendar

    return ical.read(raw, where, zone)


tone.install(_analyser)
wallclock.install(clock, future_horizon)
wording.install(catalogues.translations)
