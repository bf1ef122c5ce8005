"""`firmly worker`: the clock and the outbox on wall-clock time, until stopped."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType

from firmly import bootstrap, config
from firmly.adapters.mail import SmtpSender
from firmly.adapters.webhook import WebhookSender
from firmly.domain.errors import FirmlyError
from firmly.domain.ports import Store
from firmly.service import wallclock, worker


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


def channels(database_url: str | None) -> worker.Channels:
    smtp = config.SMTP_URL.value()
    timeout = send_timeout()
    mail = SmtpSender(smtp, config.MAIL_FROM.value(), timeout) if smtp else None

    def pdf(store: Store, key: str, decision: str) -> bytes:
        from firmly.adapters import documents  # noqa: PLC0415 - WeasyPrint loads only when an invoice goes out
        from firmly.service import invoices  # noqa: PLC0415

        return documents.invoice_pdf(invoices.invoice(store, key, decision))

    return worker.Channels(mail, WebhookSender(timeout), pdf)


def run(database_url: str | None, interval: float, once: bool, as_of: int | None,
        report: Callable[[worker.Round], None]) -> None:
    def store_for(name: str) -> Store:
        return bootstrap.store(database_url, name or None)

    wire = channels(database_url)
    lease = int(2 * send_timeout() * worker.SECOND)  # one send, and as long again for marking it and clock skew
    stop = False

    def halt(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True  # finish the message in hand, then leave

    signal.signal(signal.SIGTERM, halt)
    signal.signal(signal.SIGINT, halt)
    while not stop:
        now = as_of if as_of is not None else wallclock.now()
        woken = worker.tick_all(store_for, now)
        wall = None if as_of is not None else (lambda: time.time_ns() // 1000)  # leases on the wall clock
        done = worker.drain(store_for, now, wire, lease=lease, clock=wall, stopping=lambda: stop)
        done.woken = woken
        report(done)
        if once:
            return
        time.sleep(interval)
